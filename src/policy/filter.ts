/**
 * The field filter: pure, and the last gate before a disclosure. A path names a field (`summary`), a
 * field of every element of a list (`items.date`), or a field of a nested object (`details.level`); a
 * path that names a whole object or list releases all of it. Anything not named is withheld.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** `true`: release the whole value; a map: release only these sub-fields. */
type Tree = Map<string, Tree | true>;

export interface FilterResult<T = unknown> {
  released: T;
  /** The paths released, as named (`contact`, `items.date`), in payload order, without list indexes. */
  releasedPaths: string[];
  /** The leaf paths present in the payload and withheld. */
  withheldPaths: string[];
}

function buildTree(fieldPaths: readonly string[]): Tree {
  const root: Tree = new Map();
  for (const path of fieldPaths) {
    const parts = path.split('.');
    let node = root;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const existing = node.get(part);
      if (existing === true) break;
      if (i === parts.length - 1) {
        node.set(part, true);
        break;
      }
      const next: Tree = existing ?? new Map();
      node.set(part, next);
      node = next;
    }
  }
  return root;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function copy(value: unknown): Json {
  if (Array.isArray(value)) return value.map(copy);
  if (isObject(value)) {
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) out[k] = copy(v);
    return out;
  }
  return value as Json;
}

/** Adds every leaf path under `value` (lists contribute their elements' fields, without indexes). */
function collect(value: unknown, prefix: string, into: Set<string>): void {
  const elements = Array.isArray(value) ? value : [value];
  let leaf = Array.isArray(value) && value.length > 0 ? false : !isObject(value);
  for (const el of elements) {
    if (isObject(el)) {
      for (const [k, v] of Object.entries(el)) collect(v, `${prefix}.${k}`, into);
    } else {
      leaf = true;
    }
  }
  if (leaf && !(Array.isArray(value) && value.length === 0)) into.add(prefix);
}

function apply(
  value: unknown,
  tree: Tree,
  prefix: string,
  released: Set<string>,
  withheld: Set<string>,
): Json {
  if (Array.isArray(value)) {
    const out: Json[] = [];
    for (const el of value) {
      if (isObject(el)) out.push(apply(el, tree, prefix, released, withheld));
      // A bare value inside a list a sub-path was asked of has no named field: withheld.
      else withheld.add(prefix);
    }
    return out;
  }
  const out: { [key: string]: Json } = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const rule = tree.get(key);
    if (rule === true) {
      out[key] = copy(v);
      released.add(path);
    } else if (rule && (isObject(v) || Array.isArray(v))) {
      out[key] = apply(v, rule, path, released, withheld);
    } else {
      collect(v, path, withheld);
    }
  }
  return out;
}

/**
 * Returns a new payload holding only the named paths, and which paths were released and withheld.
 * Never mutates its input. A payload that is not an object is withheld whole.
 */
export function filterPayload<T = unknown>(payload: unknown, fieldPaths: readonly string[]): FilterResult<T> {
  const released = new Set<string>();
  const withheld = new Set<string>();
  if (!isObject(payload)) {
    return { released: {} as T, releasedPaths: [], withheldPaths: [] };
  }
  const out = apply(payload, buildTree(fieldPaths), '', released, withheld);
  for (const p of released) withheld.delete(p);
  return { released: out as T, releasedPaths: [...released], withheldPaths: [...withheld] };
}
