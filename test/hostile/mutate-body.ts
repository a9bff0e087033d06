import fc from 'fast-check';
import { PLACEHOLDER } from './plant.js';

/**
 * Mutations of a JSON body. A body is a value plus raw fragments: bytes JSON.stringify cannot write
 * (nesting deeper than any parser should follow, numbers out of range, duplicate keys, invalid UTF-8)
 * stand in the value as sentinels and are spliced into the serialised text (`serialiseBody`).
 */
export interface BodyDraft {
  value: unknown;
  /** Sentinel index → the bytes that replace it. */
  raws: Buffer[];
  /** What was done to it, for the run's statistics and a failure's description. */
  label: string;
}

/** A whole JSON value replaced by raw bytes: `"\uE002<k>\uE003"`, quotes included. */
const WHOLE = (k: number) => `\uE002${k}\uE003`;
/** Raw bytes inside a JSON string: `\uE004<k>\uE005`. */
const INSIDE = (k: number) => `\uE004${k}\uE005`;

type Path = Array<string | number>;

function paths(value: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) paths(v, [...at, i], out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) paths(v, [...at, k], out);
  }
  return out;
}

function getAt(value: unknown, path: Path): unknown {
  let v = value;
  for (const p of path) v = (v as Record<string | number, unknown>)[p];
  return v;
}

/** Sets (or with `undefined`, deletes) the value at `path`; the root is replaced by the return value. */
function setAt(root: unknown, path: Path, next: unknown): unknown {
  if (path.length === 0) return next;
  const parent = getAt(root, path.slice(0, -1)) as Record<string | number, unknown>;
  const key = path[path.length - 1] as string | number;
  if (next === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  } else {
    Object.defineProperty(parent, key, { value: next, enumerable: true, writable: true, configurable: true });
  }
  return root;
}

const WRONG_TYPES: unknown[] = [12345, -1, 1.5, true, false, null, [], {}, 'text', [[]], { a: 1 }, [null]];

const UNICODE_TRICKS = [
  '\u202Eevil\u202C', // right-to-left override
  'a\u200Bb\u200Cc\u200Dd\uFEFF', // zero-width characters and a byte-order mark
  '\uD800', // a lone high surrogate
  'x\uDC00y', // a lone low surrogate
  'nul\u0000byte',
  'line\u2028separator\u2029',
  'e\u0301\u0301\u0301\u0301\u0301', // stacked combining marks
  '\u0000',
  'ＡＤＭＩＮ', // full-width
  '\u{1F476}\u{1F3FD}', // an emoji with a skin-tone modifier
  'tab\tand\r\nnewline',
];

/** Invalid UTF-8 inside a string: overlong `/`, overlong NUL, a UTF-8 surrogate, above U+10FFFF, stray bytes. */
const BAD_UTF8 = [
  [0xc0, 0xaf],
  [0xc0, 0x80],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xff, 0xfe],
  [0x80],
].map((b) => Buffer.from(b));

const INJECTIONS = [
  "' OR '1'='1' --",
  '$1',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, sent as text
  '${7*7}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '%00',
  '\\u0000',
  'null',
  '__proto__',
];

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'];
const PROTO_VALUES: unknown[] = [
  { polluted: true },
  { isAdmin: true, role: 'auditor' },
  null,
  'x',
  { prototype: { polluted: 1 } },
];

const RAW_NUMBERS = ['1e999', '-1e999', '-0', '123456789012345678901234567890', '1.0e-400', '0.1e1', '1E+2'];

/** A mutation of a body draft, chosen by fast-check. */
export const bodyMutation: fc.Arbitrary<(d: BodyDraft) => BodyDraft> = fc.oneof(
  fc.record({ pick: fc.nat(), to: fc.constantFrom(...WRONG_TYPES) }).map(({ pick, to }) => (d: BodyDraft) => {
    const ps = paths(d.value);
    const path = ps[pick % ps.length] ?? [];
    return {
      ...d,
      value: setAt(d.value, path, structuredClone(to)),
      label: `wrong type at /${path.join('/')}`,
    };
  }),
  fc
    .record({
      pick: fc.nat(),
      size: fc.constantFrom(5_000, 60_000, 300_000),
      unit: fc.constantFrom('A', '\u{1F476}', '\\'),
      planted: fc.boolean(),
    })
    .map(({ pick, size, unit, planted }) => (d: BodyDraft) => {
      const ps = paths(d.value);
      const path = ps[pick % ps.length] ?? [];
      const huge = `${planted ? PLACEHOLDER.text : ''}${unit.repeat(Math.ceil(size / unit.length))}`;
      return {
        ...d,
        value: setAt(d.value, path, huge),
        label: `huge string (${size}) at /${path.join('/')}`,
      };
    }),
  fc
    .record({
      pick: fc.nat(),
      depth: fc.constantFrom(64, 1_000, 20_000, 100_000),
      kind: fc.constantFrom('[', '{'),
    })
    .map(({ pick, depth, kind }) => (d: BodyDraft) => {
      const ps = paths(d.value);
      const path = ps[pick % ps.length] ?? [];
      const raw =
        kind === '['
          ? `${'['.repeat(depth)}${']'.repeat(depth)}`
          : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
      const k = d.raws.length;
      return {
        value: setAt(d.value, path, WHOLE(k)),
        raws: [...d.raws, Buffer.from(raw)],
        label: `nesting ${depth} deep at /${path.join('/')}`,
      };
    }),
  fc
    .record({ pick: fc.nat(), key: fc.constantFrom(...PROTO_KEYS), to: fc.constantFrom(...PROTO_VALUES) })
    .map(({ pick, key, to }) => (d: BodyDraft) => {
      const objects = paths(d.value).filter((p) => {
        const v = getAt(d.value, p);
        return v !== null && typeof v === 'object' && !Array.isArray(v);
      });
      const path = objects[pick % Math.max(objects.length, 1)] ?? [];
      const target = objects.length > 0 ? d.value : {};
      return {
        ...d,
        value: setAt(target, [...path, key], structuredClone(to)),
        label: `${key} key at /${path.join('/')}`,
      };
    }),
  fc
    .record({ pick: fc.nat(), trick: fc.constantFrom(...UNICODE_TRICKS), prefix: fc.boolean() })
    .map(({ pick, trick, prefix }) => (d: BodyDraft) => {
      const strings = paths(d.value).filter((p) => typeof getAt(d.value, p) === 'string');
      const path = strings[pick % Math.max(strings.length, 1)] ?? [];
      const old = String(getAt(d.value, path) ?? '');
      return {
        ...d,
        value: setAt(d.value, path, prefix ? trick + old : old + trick),
        label: `unicode trick at /${path.join('/')}`,
      };
    }),
  fc.record({ pick: fc.nat(), bad: fc.constantFrom(...BAD_UTF8) }).map(({ pick, bad }) => (d: BodyDraft) => {
    const strings = paths(d.value).filter((p) => typeof getAt(d.value, p) === 'string');
    const path = strings[pick % Math.max(strings.length, 1)] ?? [];
    const k = d.raws.length;
    const old = String(getAt(d.value, path) ?? '');
    return {
      value: setAt(d.value, path, `${old}${INSIDE(k)}`),
      raws: [...d.raws, bad],
      label: `invalid UTF-8 at /${path.join('/')}`,
    };
  }),
  fc
    .record({ pick: fc.nat(), text: fc.constantFrom(...INJECTIONS) })
    .map(({ pick, text }) => (d: BodyDraft) => {
      const strings = paths(d.value).filter((p) => typeof getAt(d.value, p) === 'string');
      const path = strings[pick % Math.max(strings.length, 1)] ?? [];
      return { ...d, value: setAt(d.value, path, text), label: `injection text at /${path.join('/')}` };
    }),
  fc.nat().map((pick) => (d: BodyDraft) => {
    const ps = paths(d.value).filter((p) => p.length > 0);
    const path = ps[pick % Math.max(ps.length, 1)];
    if (!path) return { ...d, label: 'nothing to remove' };
    return { ...d, value: setAt(d.value, path, undefined), label: `removed /${path.join('/')}` };
  }),
  fc
    .record({ pick: fc.nat(), raw: fc.constantFrom(...RAW_NUMBERS) })
    .map(({ pick, raw }) => (d: BodyDraft) => {
      const ps = paths(d.value);
      const path = ps[pick % ps.length] ?? [];
      const k = d.raws.length;
      return {
        value: setAt(d.value, path, WHOLE(k)),
        raws: [...d.raws, Buffer.from(raw)],
        label: `number ${raw} at /${path.join('/')}`,
      };
    }),
  fc.nat().map((pick) => (d: BodyDraft) => {
    const objects = paths(d.value).filter((p) => {
      const v = getAt(d.value, p);
      return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0;
    });
    const path = objects[pick % Math.max(objects.length, 1)];
    if (!path) return { ...d, label: 'no object for a duplicate key' };
    const obj = getAt(d.value, path) as Record<string, unknown>;
    const [key] = Object.keys(obj);
    const text = JSON.stringify(obj);
    const raw = `${text.slice(0, -1)},${JSON.stringify(key)}:{"dup":${JSON.stringify(PLACEHOLDER.text)}}}`;
    const k = d.raws.length;
    return {
      value: setAt(d.value, path, WHOLE(k)),
      raws: [...d.raws, Buffer.from(raw)],
      label: `duplicate key at /${path.join('/')}`,
    };
  }),
  fc
    .record({ pick: fc.nat(), many: fc.constantFrom(1_000, 20_000) })
    .map(({ pick, many }) => (d: BodyDraft) => {
      const ps = paths(d.value);
      const path = ps[pick % ps.length] ?? [];
      // The copies carry no planted data and no raw fragment: a handful of values per request, not thousands.
      const text = JSON.stringify(getAt(d.value, path) ?? 1).replace(
        /\uE000[NGFDPT]\uE001|[\uE002\uE004]\d+[\uE003\uE005]/g,
        'x',
      );
      const item = JSON.parse(text);
      // At most about twice the body limit in all: large enough to be refused, small enough to build.
      const n = Math.max(2, Math.min(many, Math.floor(600_000 / text.length)));
      return {
        ...d,
        value: setAt(
          d.value,
          path,
          Array.from({ length: n }, () => structuredClone(item)),
        ),
        label: `array of ${n} at /${path.join('/')}`,
      };
    }),
  fc.string({ maxLength: 12 }).map((key) => (d: BodyDraft) => {
    if (!d.value || typeof d.value !== 'object' || Array.isArray(d.value))
      return { ...d, label: 'no object for an extra key' };
    return { ...d, value: setAt(d.value, [key || 'extra'], PLACEHOLDER.text), label: 'extra property' };
  }),
);

/** The JSON text of a draft, raw fragments spliced in. */
export function serialiseBody(d: BodyDraft): Buffer {
  const text = JSON.stringify(d.value) ?? 'null';
  const parts = text.split(/("\uE002\d+\uE003"|\uE004\d+\uE005)/);
  return Buffer.concat(
    parts.map((part) => {
      const m = /^"?[\uE002\uE004](\d+)[\uE003\uE005]"?$/.exec(part);
      return m ? (d.raws[Number(m[1])] ?? Buffer.alloc(0)) : Buffer.from(part, 'utf8');
    }),
  );
}

/** Whole bodies that are not the JSON the route expects. */
export const STRANGE_BODIES: ReadonlyArray<[string, Buffer]> = [
  ['not JSON', Buffer.from('hello')],
  ['XML', Buffer.from('<?xml version="1.0"?><a>&xxe;</a>')],
  ['form encoded', Buffer.from('to=police-county&nhsNumber=1')],
  ['empty', Buffer.alloc(0)],
  ['null', Buffer.from('null')],
  ['an array', Buffer.from('[]')],
  ['a string', Buffer.from(JSON.stringify(PLACEHOLDER.text))],
  ['a number', Buffer.from('0')],
  ['truncated', Buffer.from('{"to":"csc-north","subject":{"type":')],
  ['byte-order mark', Buffer.from('\uFEFF{}')],
  ['trailing garbage', Buffer.from('{} x')],
  ['comments', Buffer.from('{/* c */"a":1}')],
  ['UTF-16', Buffer.from('{"a":"b"}', 'utf16le')],
  ['gzip magic', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00])],
  ['NUL bytes', Buffer.from([0x7b, 0x00, 0x7d])],
  ['a top-level __proto__', Buffer.from('{"__proto__":{"polluted":true}}')],
  ['a constructor.prototype', Buffer.from('{"constructor":{"prototype":{"polluted":true}}}')],
];
