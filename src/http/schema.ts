import { type TUnsafe, Type } from '@sinclair/typebox';

/**
 * One string of a fixed list, as a JSON Schema `enum`: a wrong value gets one error that lists the
 * allowed values, where a union of literals gets one error per value.
 */
export const stringEnum = <T extends string>(values: readonly T[]): TUnsafe<T> =>
  Type.Unsafe<T>({ type: 'string', enum: [...values] });
