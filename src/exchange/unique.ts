/** The distinct values, in the order first seen (rule ids and lawful bases listed once in an entry). */
export const unique = <T>(xs: Iterable<T>): T[] => [...new Set(xs)];
