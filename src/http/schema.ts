import { type TUnsafe, Type } from '@sinclair/typebox';

/**
 * One string of a fixed list, as a JSON Schema `enum`: a wrong value gets one error that lists the
 * allowed values, where a union of literals gets one error per value.
 */
export const stringEnum = <T extends string>(
  values: readonly T[],
  options: { default?: T } = {},
): TUnsafe<T> => Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids the gateway makes are UUIDs: anything else names nothing (and never reaches a uuid cast). */
export const isUuid = (value: string): boolean => UUID.test(value);
