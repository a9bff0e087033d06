import { validNhsNumberFrom } from '../helpers/ids.js';

/**
 * Personal data planted in the fuzzer's requests. The generators (seeded, so replayable) put
 * placeholders where a schema field holds personal data; each is replaced by a fresh, distinctive value
 * as the request goes out, so that every value is unique to one request: a response that carries one of
 * its own request's values echoes it, and a log line that carries any of them leaks it. Every kind has a
 * shape nothing else in a response or a log line has, so the log scan needs no list of what was sent.
 */
export const PLACEHOLDER = {
  nhs: '\uE000N\uE001',
  given: '\uE000G\uE001',
  family: '\uE000F\uE001',
  dob: '\uE000D\uE001',
  postcode: '\uE000P\uE001',
  text: '\uE000T\uE001',
} as const;

export type PlantKind = keyof typeof PLACEHOLDER;

const PLACEHOLDER_RE = /\uE000([NGFDPT])\uE001/g;
const KIND_OF: Record<string, PlantKind> = {
  N: 'nhs',
  G: 'given',
  F: 'family',
  D: 'dob',
  P: 'postcode',
  T: 'text',
};

/** NHS numbers from 960 000 000 on: no fixture, and no other test file, uses that range. */
const NHS_BASE = 960_000_000;

/** The shapes of planted values, for scanning text that may hold any of them. */
export const PLANTED_SHAPES: ReadonlyArray<[string, RegExp]> = [
  ['name or free-text marker', /Qz[0-9a-z]{4,}Pii/],
  ['NHS number', /(?<![0-9a-fA-F])96\d{8}(?![0-9a-fA-F])/],
  ['NHS number with spaces', /(?<![0-9a-fA-F])96\d \d{3} \d{4}(?![0-9a-fA-F])/],
  ['date of birth', /(?<![0-9-])19[0-3]\d-[01]\d-[0-3]\d(?![0-9])/],
];

export class Planter {
  private seq = 0;

  /** A marker no other planted value shares: `Qz` + base 36 counter + `Pii`. */
  private marker(): string {
    return `Qz${(this.seq++).toString(36).padStart(4, '0')}Pii`;
  }

  private value(kind: PlantKind): string {
    switch (kind) {
      case 'nhs': {
        const n = this.seq++;
        const nhs = validNhsNumberFrom(NHS_BASE + n * 10);
        return n % 3 === 0 ? `${nhs.slice(0, 3)} ${nhs.slice(3, 6)} ${nhs.slice(6)}` : nhs;
      }
      case 'dob': {
        const n = this.seq++;
        const year = 1901 + (n % 39);
        const month = 1 + (Math.floor(n / 39) % 12);
        const day = 1 + (Math.floor(n / 468) % 28);
        return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
      }
      case 'text':
        return `Disclosed to the school nurse by ${this.marker()} on Tuesday.`;
      default:
        return this.marker();
    }
  }

  /**
   * Replaces every placeholder in `text` with a fresh value; returns the text and the values planted
   * (NHS numbers also without their spaces, as the gateway stores them).
   */
  materialise(text: string): { text: string; planted: string[] } {
    const planted: string[] = [];
    const out = text.replace(PLACEHOLDER_RE, (_m, k: string) => {
      const kind = KIND_OF[k] ?? 'text';
      const v = this.value(kind);
      if (kind === 'nhs') planted.push(v, v.replaceAll(' ', ''));
      else if (kind === 'text') planted.push(/Qz[0-9a-z]+Pii/.exec(v)?.[0] ?? v);
      else planted.push(v);
      return v;
    });
    return { text: out, planted };
  }

  /** The same, over bytes (a request's head and body, which may hold invalid UTF-8). */
  materialiseBytes(buf: Buffer): { bytes: Buffer; planted: string[] } {
    const planted: string[] = [];
    const text = buf
      .toString('latin1')
      .replace(/\u00EE\u0080\u0080([NGFDPT])\u00EE\u0080\u0081/g, (_m, k: string) => {
        const placeholder = PLACEHOLDER[KIND_OF[k] ?? 'text'];
        const out = this.materialise(placeholder);
        for (const v of out.planted) planted.push(v);
        return out.text;
      });
    return { bytes: Buffer.from(text, 'latin1'), planted };
  }

  /** One fresh value of `kind` (a name in a token's claims). */
  fresh(kind: PlantKind): { value: string; planted: string[] } {
    const out = this.materialise(PLACEHOLDER[kind]);
    return { value: out.text, planted: out.planted };
  }

  get count(): number {
    return this.seq;
  }
}

/** Which planted shape `text` holds, if any. */
export function plantedShapeIn(text: string): string | undefined {
  for (const [name, re] of PLANTED_SHAPES) if (re.test(text)) return name;
  return undefined;
}
