import { type TUnsafe, Type } from '@sinclair/typebox';

/**
 * One string of a fixed list, as a JSON Schema `enum`: a wrong value gets one error that lists the
 * allowed values, where a union of literals gets one error per value.
 */
export const stringEnum = <T extends string>(
  values: readonly T[],
  options: { default?: T } = {},
): TUnsafe<T> => Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });

/** A date (a day in England), or a date-time with a zone: how validity bounds are written. */
export const DateOrDateTime = Type.String({
  pattern:
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?(Z|z|[+-][0-9]{2}:[0-9]{2}))?$',
  maxLength: 40,
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids the gateway makes are UUIDs: anything else names nothing (and never reaches a uuid cast). */
export const isUuid = (value: string): boolean => UUID.test(value);
