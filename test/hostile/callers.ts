import { createHmac, randomUUID } from 'node:crypto';
import { AGENCIES, type TestGateway } from '../helpers/gateway.js';
import type { ClientCredentials } from '../helpers/https.js';
import { agencySigningKey, claims, signEs256 } from '../helpers/jwt.js';
import type { Caller } from './cases.js';
import type { Planter } from './plant.js';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/**
 * The credentials a caller presents: which client certificate (if any) and which Authorization header
 * (if any). Valid tokens are real practitioner tokens of the agency's registered key; the bad ones are
 * forged the ways an attacker would.
 */
export class Callers {
  private readonly creds = new Map<string, ClientCredentials>();
  private readonly tokens = new Map<string, string>();
  private readonly keys = new Map<string, { pem: string; kid: string; publicPem: string }>();

  constructor(private readonly gw: TestGateway) {}

  /** The certificate's agency, or undefined for a connection without one. */
  certificateOf(caller: Caller): string | undefined {
    return caller.kind === 'no-certificate' ? undefined : caller.agency;
  }

  credentials(agency: string | undefined): ClientCredentials {
    const key = agency ?? '';
    let c = this.creds.get(key);
    if (!c) {
      c = agency ? this.gw.credentials(agency) : { ca: this.gw.credentials(AGENCIES.csc.id).ca };
      this.creds.set(key, c);
    }
    return c;
  }

  private validToken(agency: string, role: string): string {
    const k = `${agency}:${role}`;
    let t = this.tokens.get(k);
    if (!t) {
      t = this.gw.token(agency, role, `hostile-${role}`);
      this.tokens.set(k, t);
    }
    return t;
  }

  private key(agency: string) {
    let k = this.keys.get(agency);
    if (!k) {
      k = agencySigningKey(this.gw.certsDir, agency);
      this.keys.set(agency, k);
    }
    return k;
  }

  private forge(agency: string, header: Record<string, unknown>, over: Record<string, unknown>): string {
    return signEs256(
      this.key(agency).pem,
      header,
      claims(agency, { aud: this.gw.config.gatewayId, ...over }),
    );
  }

  /** The Authorization header value, and any personal data planted in the token. */
  authorization(caller: Caller, planter: Planter): { value: string | undefined; planted: string[] } {
    const none = { value: undefined, planted: [] };
    switch (caller.kind) {
      case 'certificate-only':
        return none;
      case 'no-certificate':
        return caller.withToken
          ? { value: `Bearer ${this.validToken(caller.agency, caller.role)}`, planted: [] }
          : none;
      case 'role-of-another-kind': {
        const kid = this.key(caller.agency).kid;
        return {
          value: `Bearer ${this.forge(caller.agency, { alg: 'ES256', kid }, { role: caller.role })}`,
          planted: [],
        };
      }
      case 'token-of-another-agency':
        return { value: `Bearer ${this.validToken(caller.other, caller.role)}`, planted: [] };
      case 'agency': {
        // The scheme is case-insensitive (RFC 9110 section 11.1): each spelling is a valid caller.
        if (!caller.plantedName) {
          return { value: `${caller.scheme} ${this.validToken(caller.agency, caller.role)}`, planted: [] };
        }
        const name = planter.fresh('family');
        const kid = this.key(caller.agency).kid;
        const token = this.forge(
          caller.agency,
          { alg: 'ES256', kid },
          { role: caller.role, name: name.value, sub: `hostile-${caller.role}` },
        );
        return { value: `Bearer ${token}`, planted: name.planted };
      }
      case 'bad-token':
        return this.badToken(caller, planter);
    }
  }

  private badToken(
    caller: Extract<Caller, { kind: 'bad-token' }>,
    planter: Planter,
  ): { value: string; planted: string[] } {
    const { agency, role } = caller;
    const { kid, publicPem } = this.key(agency);
    const now = Math.floor(Date.now() / 1000);
    const es = (over: Record<string, unknown>, header: Record<string, unknown> = { alg: 'ES256', kid }) =>
      this.forge(agency, header, { role, ...over });
    const plain = (v: string) => ({ value: v, planted: [] });
    switch (caller.token) {
      case 'garbage':
        return plain('Bearer not.a.jwt');
      case 'alg-none':
        return plain(`Bearer ${b64({ alg: 'none', typ: 'JWT', kid })}.${b64(claims(agency, { role }))}.`);
      case 'hs256': {
        const input = `${b64({ alg: 'HS256', typ: 'JWT', kid })}.${b64(claims(agency, { role, aud: this.gw.config.gatewayId }))}`;
        return plain(`Bearer ${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`);
      }
      case 'expired':
        return plain(`Bearer ${es({ iat: now - 7200, exp: now - 3600 })}`);
      case 'issued-in-future':
        return plain(`Bearer ${es({ iat: now + 3600, exp: now + 3900 })}`);
      case 'wrong-audience':
        return plain(`Bearer ${es({ aud: 'another-gateway' })}`);
      case 'lifetime-too-long':
        return plain(`Bearer ${es({ exp: now + 86_400 })}`);
      case 'no-kid':
        return plain(`Bearer ${es({}, { alg: 'ES256' })}`);
      case 'unknown-kid':
        return plain(`Bearer ${es({}, { alg: 'ES256', kid: randomUUID() })}`);
      case 'huge':
        return plain(`Bearer ${'a'.repeat(12_000)}`);
      case 'basic-scheme':
        return plain(`Basic ${Buffer.from('admin:admin').toString('base64')}`);
      case 'empty-bearer':
        return plain('Bearer ');
      case 'control-characters-in-sub':
        return plain(`Bearer ${es({ sub: 'a\u0000b\nc\u202e' })}`);
      case 'flipped-signature': {
        const t = this.validToken(agency, role);
        const last = t.at(-2) === 'A' ? 'B' : 'A';
        return plain(`Bearer ${t.slice(0, -2)}${last}${t.at(-1)}`);
      }
      case 'short-signature': {
        const t = this.validToken(agency, role);
        return plain(
          `Bearer ${t.slice(0, t.lastIndexOf('.') + 1)}${Buffer.alloc(10, 1).toString('base64url')}`,
        );
      }
      case 'planted-name-bad-signature': {
        const name = planter.fresh('family');
        const t = es({ name: name.value });
        return { value: `Bearer ${t.slice(0, -4)}AAAA`, planted: name.planted };
      }
    }
  }
}
