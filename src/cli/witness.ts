import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import type { Config } from '../config/index.js';
import { certPaths, mintToken, validateAgencyId, writeFileAtomic } from '../registry/index.js';
import { type CliIo, parseOptions, required, UsageError } from './io.js';
import {
  checkpointSigned,
  ledgerKeyId,
  verifyConsistency,
  type WitnessCheckpoint,
} from './witness-verify.js';

export const WITNESS_USAGE = `  audit witness --url URL (--agency ID | --cert F --key F --token F) [--ca F] [--state F] [--gateway ID]
                                      check the gateway's checkpoint extends the last one this witness saw`;

const REQUEST_TIMEOUT_MS = 10_000;
const TOKEN_TTL_S = 300;
const STATE_FORMAT = 'sgw-witness-state/1';

const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const CheckpointSchema = Type.Object({
  treeSize: Type.Integer({ minimum: 0 }),
  rootHash: Hex64,
  timestamp: Type.String({ minLength: 1 }),
  keyId: Type.String({ pattern: '^[0-9a-f]{32}$' }),
  signature: Type.String({ minLength: 1 }),
});
const KeysSchema = Type.Array(
  Type.Object({ keyId: Type.String(), alg: Type.String(), publicKeyPem: Type.String() }),
);
const ConsistencySchema = Type.Object({
  from: Type.Integer(),
  to: Type.Integer(),
  proof: Type.Array(Hex64),
});
const StateSchema = Type.Object({
  format: Type.Literal(STATE_FORMAT),
  gatewayId: Type.String(),
  url: Type.String(),
  checkpoint: CheckpointSchema,
  /** keyId -> SPKI PEM of every ledger key this witness has seen; a published key never changes. */
  keys: Type.Record(Type.String(), Type.String()),
  savedAt: Type.String(),
});
type WitnessState = Static<typeof StateSchema>;

const ajv = new Ajv({ allErrors: false, strict: true });
const checkers = {
  checkpoint: ajv.compile<Static<typeof CheckpointSchema>>(CheckpointSchema),
  keys: ajv.compile<Static<typeof KeysSchema>>(KeysSchema),
  consistency: ajv.compile<Static<typeof ConsistencySchema>>(ConsistencySchema),
  state: ajv.compile<WitnessState>(StateSchema),
};

/**
 * Why a witness run failed, each with its own opening words (docs/verifying.md lists them): the first
 * four are the gateway's fault or the network's; the others are evidence against the ledger.
 */
type WitnessFailureKind =
  | 'unreachable'
  | 'refused'
  | 'bad_reply'
  | 'bad_state'
  | 'unknown_key'
  | 'key_changed'
  | 'bad_signature'
  | 'shrank'
  | 'forked'
  | 'inconsistent';

class WitnessFailure extends Error {
  constructor(
    readonly kind: WitnessFailureKind,
    message: string,
  ) {
    super(message);
  }
}

interface Connection {
  url: URL;
  ca: string;
  cert: string;
  key: string;
  token: string;
}

function getJson(conn: Connection, route: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(route, conn.url),
      {
        method: 'GET',
        ca: conn.ca,
        cert: conn.cert,
        key: conn.key,
        headers: { authorization: `Bearer ${conn.token}`, accept: 'application/json' },
        agent: false,
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let body: unknown;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        new WitnessFailure(
          'unreachable',
          `gateway unreachable at ${conn.url.origin}: ${err.code ?? err.message}`,
        ),
      ),
    );
    req.end();
  });
}

async function fetchChecked<T>(conn: Connection, route: string, check: (v: unknown) => v is T): Promise<T> {
  const { status, body } = await getJson(conn, route);
  if (status !== 200) {
    const code = (body as { code?: unknown } | undefined)?.code;
    throw new WitnessFailure(
      'refused',
      `gateway refused GET ${route}: ${status}${typeof code === 'string' ? ` ${code}` : ''}`,
    );
  }
  if (!check(body)) throw new WitnessFailure('bad_reply', `gateway reply to GET ${route} is malformed`);
  return body;
}

function readState(file: string): WitnessState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new WitnessFailure('bad_state', `state file ${file} cannot be read`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new WitnessFailure('bad_state', `state file ${file} is not JSON`);
  }
  if (!checkers.state(parsed))
    throw new WitnessFailure('bad_state', `state file ${file} is not a witness state`);
  return parsed;
}

interface WitnessResult {
  first: boolean;
  previous?: WitnessCheckpoint;
  checkpoint: WitnessCheckpoint;
  newKeys: string[];
}

/**
 * One witness run: the keys and the latest checkpoint, its signature, and that it extends the one saved
 * last time (RFC 9162 consistency proof); then the new one is saved. Throws WitnessFailure, having
 * saved nothing, when anything does not hold.
 */
async function witness(conn: Connection, gatewayId: string, stateFile: string): Promise<WitnessResult> {
  const saved = readState(stateFile);
  if (saved && saved.gatewayId !== gatewayId) {
    throw new UsageError(
      `${stateFile} holds the checkpoints of gateway ${saved.gatewayId}, not ${gatewayId}`,
    );
  }
  const published = await fetchChecked(conn, '/v1/audit/keys', checkers.keys);
  const cp = await fetchChecked(conn, '/v1/audit/checkpoint', checkers.checkpoint);

  const keys: Record<string, string> = {};
  for (const k of published) {
    // The witness computes each id itself rather than trusting the label the gateway puts on a key.
    let id: string;
    try {
      id = ledgerKeyId(k.publicKeyPem);
    } catch {
      throw new WitnessFailure('bad_reply', 'gateway published a ledger key that is not a public key');
    }
    if (k.alg === 'Ed25519' && id === k.keyId) keys[id] = k.publicKeyPem;
  }
  // A key id is a hash of the key: the same id published again is the same key.
  for (const id of Object.keys(saved?.keys ?? {})) {
    if (keys[id] === undefined) {
      throw new WitnessFailure('key_changed', `ledger key ${id} seen before is no longer published`);
    }
  }
  const signer = keys[cp.keyId];
  if (!signer) {
    throw new WitnessFailure(
      'unknown_key',
      `checkpoint is signed by key ${cp.keyId}, which is not published`,
    );
  }
  if (!checkpointSigned(gatewayId, cp, signer)) {
    throw new WitnessFailure(
      'bad_signature',
      `checkpoint signature does not verify (size ${cp.treeSize}, gateway ${gatewayId})`,
    );
  }

  const old = saved?.checkpoint;
  if (old) await checkExtends(conn, old, cp);

  const state: WitnessState = {
    format: STATE_FORMAT,
    gatewayId,
    url: conn.url.origin,
    checkpoint: cp,
    keys: { ...saved?.keys, ...keys },
    savedAt: new Date().toISOString(),
  };
  writeFileAtomic(stateFile, `${JSON.stringify(state, null, 2)}\n`);
  return {
    first: !old,
    ...(old ? { previous: old } : {}),
    checkpoint: cp,
    newKeys: Object.keys(keys).filter((id) => saved && saved.keys[id] === undefined),
  };
}

async function checkExtends(conn: Connection, old: WitnessCheckpoint, cp: WitnessCheckpoint): Promise<void> {
  if (cp.treeSize < old.treeSize) {
    throw new WitnessFailure('shrank', `tree shrank from ${old.treeSize} to ${cp.treeSize} entries`);
  }
  if (cp.treeSize === old.treeSize) {
    if (cp.rootHash !== old.rootHash) {
      throw new WitnessFailure(
        'forked',
        `same size ${cp.treeSize}, different root: ${old.rootHash} before, ${cp.rootHash} now`,
      );
    }
    return;
  }
  const proof =
    old.treeSize === 0
      ? { from: 0, to: cp.treeSize, proof: [] }
      : await fetchChecked(
          conn,
          `/v1/audit/consistency?from=${old.treeSize}&to=${cp.treeSize}`,
          checkers.consistency,
        );
  const ok =
    proof.from === old.treeSize &&
    proof.to === cp.treeSize &&
    verifyConsistency(
      old.treeSize,
      cp.treeSize,
      Buffer.from(old.rootHash, 'hex'),
      Buffer.from(cp.rootHash, 'hex'),
      proof.proof.map((h) => Buffer.from(h, 'hex')),
    );
  if (!ok) {
    throw new WitnessFailure(
      'inconsistent',
      `consistency proof from ${old.treeSize} to ${cp.treeSize} entries does not verify: the history seen before is not part of this one`,
    );
  }
}

function readInput(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read ${what} ${file}`);
  }
}

/** `sgw audit witness`: exit 0 when the checkpoint holds (or is the first seen), 1 when not, 2 on bad usage. */
export async function witnessCommand(args: string[], config: Config, io: CliIo): Promise<number> {
  const { values } = parseOptions(args, {
    url: { type: 'string' },
    agency: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    token: { type: 'string' },
    ca: { type: 'string' },
    state: { type: 'string' },
    gateway: { type: 'string' },
  });
  let url: URL;
  try {
    url = new URL(required(values, 'url'));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError('--url must be a URL such as https://gateway.example:8443');
  }
  if (url.protocol !== 'https:') throw new UsageError('--url must be https');
  const gatewayId = values.gateway ?? config.gatewayId;
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(gatewayId)) throw new UsageError('--gateway is not a gateway id');
  const p = certPaths(config.certsDir);

  let cert: string;
  let key: string;
  let token: string;
  if (values.agency !== undefined) {
    if (values.cert || values.key || values.token) {
      throw new UsageError('give either --agency or --cert, --key and --token, not both');
    }
    const agency = values.agency;
    try {
      validateAgencyId(agency);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    cert = readInput(p.clientCert(agency), 'the client certificate');
    key = readInput(p.clientKey(agency), 'the client key');
    token = mintToken(config.certsDir, {
      agency,
      sub: 'sgw-witness',
      role: 'auditor',
      audience: gatewayId,
      ttlSeconds: TOKEN_TTL_S,
    });
  } else {
    cert = readInput(required(values, 'cert'), 'the client certificate');
    key = readInput(required(values, 'key'), 'the client key');
    token = readInput(required(values, 'token'), 'the token').trim();
  }
  const conn: Connection = {
    url,
    ca: readInput(values.ca ?? p.caCert, 'the CA certificate'),
    cert,
    key,
    token,
  };
  const stateFile = path.resolve(values.state ?? `witness-${gatewayId}.json`);

  try {
    const r = await witness(conn, gatewayId, stateFile);
    const cp = r.checkpoint;
    io.stdout(
      r.first
        ? `witness: first checkpoint recorded: size ${cp.treeSize}, root ${cp.rootHash}, signed ${cp.timestamp}`
        : `witness: ok: size ${r.previous?.treeSize} -> ${cp.treeSize}, root ${cp.rootHash}, signed ${cp.timestamp}`,
    );
    for (const id of r.newKeys) io.stdout(`witness: a new ledger key is published: ${id}`);
    io.stdout(`witness: state saved in ${stateFile}`);
    return 0;
  } catch (err) {
    if (!(err instanceof WitnessFailure)) throw err;
    io.stderr(`witness: FAILED (${err.kind}): ${err.message}`);
    return 1;
  }
}
