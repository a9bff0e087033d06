import fc from 'fast-check';
import { PLACEHOLDER } from './plant.js';

/**
 * Mutations of what surrounds a body: the method, the path and its parameters, the query string and
 * the headers. Headers are a list of raw lines, so that they can repeat, be malformed or be missing.
 */
export type HeaderList = Array<[string, string]>;

/** Path parameter values an attacker tries: traversal, encoded slashes, overlong UTF-8, oversized. */
export const HOSTILE_IDS: readonly string[] = [
  '..',
  '../../../../etc/passwd',
  '..%2F..%2F..%2Fetc%2Fpasswd',
  '%2e%2e%2f%2e%2e%2f',
  '%252e%252e%252f',
  '..%5c..%5cwindows',
  '%2F',
  'a%2Fb',
  'a%00b',
  '%00',
  '%c0%af',
  '%c0%ae%c0%ae%c0%af',
  '%ff%fe',
  '%',
  '%zz',
  '%e2%80%ae',
  '%ef%bb%bf',
  '%F0%9F%98%80',
  'x'.repeat(101),
  'y'.repeat(5000),
  "'%20OR%20'1'='1",
  '$(id)',
  '%3Bls',
  '-1',
  '0',
  '1e3',
  '99999999999999999999',
  '0x10',
  '1.5',
  '%201',
  'NaN',
  'null',
  '__proto__',
  'constructor',
  PLACEHOLDER.nhs,
  PLACEHOLDER.family,
];

/** What is appended to a whole path. */
export const PATH_TAILS: readonly string[] = [
  '',
  '/',
  '//',
  '/..',
  '/.',
  '/%2e%2e',
  ';jsessionid=1',
  '#frag',
  '?',
  '/x/y/z',
];

/** Ways of writing a route's path that might slip past a prefix check or a route match. */
export const PATH_REWRITES: ReadonlyArray<[string, (p: string) => string]> = [
  ['upper case', (p) => p.toUpperCase()],
  ['double slash', (p) => p.replace('/v1/', '/v1//')],
  ['dot segment', (p) => p.replace('/v1/', '/v1/./')],
  ['dot-dot segment', (p) => p.replace('/v1/', '/health/../v1/')],
  ['encoded prefix', (p) => p.replace('/v1/', '/%76%31/')],
  ['encoded slash', (p) => p.replace('/v1/', '/v1%2F')],
  ['absolute form', (p) => `https://localhost${p}`],
  ['absolute form, another host', (p) => `https://evil.example${p}`],
  ['backslash', (p) => p.replaceAll('/', '\\')],
  ['asterisk form', () => '*'],
  ['a 20 KB target', (p) => `${p}?${'a'.repeat(20_000)}`],
  ['a tab in the target', (p) => p.replace('/v1/', '/v1/\t')],
  ['a space in the target', (p) => p.replace('/v1/', '/v1/ x')],
  ['a NUL in the target', (p) => p.replace('/v1/', '/v1/\u0000')],
  ['no leading slash', (p) => p.slice(1)],
];

export const METHODS: readonly string[] = [
  'GET',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'HEAD',
  'TRACE',
  'PROPFIND',
  'SEARCH',
  'FOO',
  'PRI',
  'CONNECTX',
  'get',
  'G\u00C9T',
];

/** Query parameters an attacker adds. */
export const QUERY_EXTRAS: readonly string[] = [
  '__proto__[polluted]=1',
  '__proto__=x',
  'constructor[prototype][polluted]=1',
  'a[b]=c',
  'limit=1&limit=2',
  'limit=-5',
  'limit=1e9',
  'cursor=%zz',
  'x=%',
  `nhsNumber=${PLACEHOLDER.nhs}`,
  `name=${PLACEHOLDER.family}`,
  `q=${'z'.repeat(9000)}`,
  'status=all&status=open',
  'from=0000-00-00T00:00:00Z',
  'to=9999-99-99',
  'treeSize=0',
  'full=yes',
  ';=;',
];

/** One header change: added, repeated, made huge, made invalid. */
export const headerMutation: fc.Arbitrary<[string, (h: HeaderList) => HeaderList]> = fc.oneof(
  fc
    .constantFrom(
      'text/plain',
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      'application/json; charset=',
      'application/json; charset="utf-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json;;;',
      '',
      'application/json, text/plain',
      'application/merge-patch+json',
      'application/problem+json',
      '*/*',
      `application/json; ${'p=x; '.repeat(500)}`,
      'application/jsonx',
      'APPLICATION/JSON',
      'application/json; boundary=\u00e9',
    )
    .map((ct): [string, (h: HeaderList) => HeaderList] => [
      `content-type ${JSON.stringify(ct).slice(0, 40)}`,
      (h) => [...h.filter(([n]) => n.toLowerCase() !== 'content-type'), ['Content-Type', ct]],
    ]),
  fc.constant<[string, (h: HeaderList) => HeaderList]>([
    'duplicate content-type',
    (h) => [...h, ['Content-Type', 'text/plain']],
  ]),
  fc.constant<[string, (h: HeaderList) => HeaderList]>([
    'duplicate authorization',
    (h) => [...h, ['Authorization', 'Bearer x.y.z']],
  ]),
  fc
    .constantFrom(20_000, 70_000)
    .map((n): [string, (h: HeaderList) => HeaderList] => [
      `a header of ${n} bytes`,
      (h) => [...h, ['X-Huge', 'h'.repeat(n)]],
    ]),
  fc
    .constantFrom(200, 3000)
    .map((n): [string, (h: HeaderList) => HeaderList] => [
      `${n} headers`,
      (h) => [...h, ...Array.from({ length: n }, (_, i): [string, string] => [`X-Many-${i}`, 'v'])],
    ]),
  fc
    .constantFrom<[string, string]>(
      ['X Bad', '1'],
      ['X-Ctl\u0001', 'v'],
      ['X-Nul', 'a\u0000b'],
      ['X-Cr', 'a\rb'],
      ['X-Fold', 'a\r\n b'],
      ['', 'empty name'],
      ['X-Utf8', '\u00e9\u202e'],
    )
    .map(([n, v]): [string, (h: HeaderList) => HeaderList] => [
      `invalid header ${JSON.stringify(n)}`,
      (h) => [...h, [n, v]],
    ]),
  fc
    .constantFrom('missing', 'duplicate', 'huge', 'empty', 'planted')
    .map((how): [string, (h: HeaderList) => HeaderList] => [
      `host ${how}`,
      (h) => {
        const rest = h.filter(([n]) => n.toLowerCase() !== 'host');
        if (how === 'missing') return rest;
        if (how === 'duplicate') return [['Host', 'localhost'], ...rest, ['Host', 'evil.example']];
        if (how === 'huge') return [['Host', `${'h'.repeat(10_000)}.example`], ...rest];
        if (how === 'empty') return [['Host', ''], ...rest];
        return [['Host', PLACEHOLDER.family], ...rest];
      },
    ]),
  fc
    .constantFrom<HeaderList>(
      [['Content-Length', 'abc']],
      [['Content-Length', '-1']],
      [
        ['Content-Length', '0'],
        ['Content-Length', '5'],
      ],
      [['Transfer-Encoding', 'chunked']],
      [['Transfer-Encoding', 'gzip']],
      [['Transfer-Encoding', 'chunked, chunked']],
      [['Content-Encoding', 'gzip']],
      [['Content-Encoding', 'br, deflate']],
      [['Expect', '100-continue']],
      [['Expect', 'the-unexpected']],
      [
        ['Connection', 'Upgrade'],
        ['Upgrade', 'websocket'],
      ],
      [
        ['Connection', 'Upgrade, HTTP2-Settings'],
        ['Upgrade', 'h2c'],
        ['HTTP2-Settings', 'AAMAAABkAAQCAAAAAAIAAAAA'],
      ],
      [['X-Request-Id', PLACEHOLDER.family]],
      [['X-Request-Id', 'r'.repeat(5000)]],
      [['X-Request-Id', '00000000-0000-4000-8000-000000000000']],
      [['X-Forwarded-For', '10.0.0.1, 127.0.0.1']],
      [['X-Forwarded-Host', 'evil.example']],
      [['X-HTTP-Method-Override', 'DELETE']],
      [['Cookie', `session=${PLACEHOLDER.family}`]],
      [['Accept', 'text/html']],
      [['Accept', 'application/xml']],
      [['Accept-Encoding', 'gzip, br, zstd']],
      [['Range', 'bytes=0-1,2-3,4-5']],
      [['If-None-Match', '*']],
      [['Referer', `https://evil.example/?nhs=${PLACEHOLDER.nhs}`]],
      [['User-Agent', `${PLACEHOLDER.text}`]],
    )
    .map((extra): [string, (h: HeaderList) => HeaderList] => [
      `headers ${extra.map(([n, v]) => `${n}: ${v.slice(0, 24)}`).join(' | ')}`,
      (h) => [...h, ...extra],
    ]),
);

/** Request-line versions other than HTTP/1.1. */
export const VERSIONS: readonly string[] = [
  'HTTP/1.0',
  'HTTP/2.0',
  'HTTP/0.9',
  'HTTP/1.2',
  'HTTP/9.9',
  'http/1.1',
  '',
];
