import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/index.js';
import { roleBelongsToKind } from '../identity/roles.js';
import {
  addAgency,
  addJwtKey,
  initCa,
  mintToken,
  reactivateAgency,
  readRegistry,
  removeJwtKey,
  renewClientCertificate,
  renewServerCertificate,
  revokeAgencyCertificates,
  suspendAgency,
  validateAgencyId,
} from '../registry/index.js';
import { type CliIo, parseOptions, required, UsageError } from './io.js';
import { agencyWebhookCommand, checkRegisteredUrl } from './webhook.js';

function relative(file: string): string {
  return path.relative(process.cwd(), file) || file;
}

function readKeyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read ${file}`);
  }
}

export function caCommand(args: string[], config: Config, io: CliIo): number {
  const [sub, ...rest] = args;
  if (sub !== 'init') throw new UsageError('usage: sgw ca init [--force] [--hostname NAME]');
  const { values } = parseOptions(rest, { force: { type: 'boolean' }, hostname: { type: 'string' } });
  const files = initCa(config.certsDir, {
    force: values.force === true,
    ...(values.hostname ? { hostname: values.hostname } : {}),
  });
  io.stdout(
    `CA initialised in ${relative(config.certsDir)}:\n${files.map((f) => `  ${relative(f)}`).join('\n')}`,
  );
  return 0;
}

export async function agencyCommand(args: string[], config: Config, io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'add': {
      const { values } = parseOptions(rest, {
        id: { type: 'string' },
        name: { type: 'string' },
        kind: { type: 'string' },
        webhook: { type: 'string' },
        'jwt-public-key': { type: 'string' },
      });
      const keyFile = values['jwt-public-key'];
      if (values.webhook !== undefined) await checkRegisteredUrl(values.webhook, config, io);
      const result = addAgency(config.certsDir, {
        id: required(values, 'id'),
        name: required(values, 'name'),
        kind: required(values, 'kind'),
        ...(values.webhook !== undefined ? { webhookUrl: values.webhook } : {}),
        ...(keyFile !== undefined ? { jwtPublicKeyPem: readKeyFile(keyFile) } : {}),
      });
      const a = result.agency;
      io.stdout(
        [
          `agency ${a.id} (${a.kind}) added`,
          ...result.files.map((f) => `  wrote ${relative(f)}`),
          `  jwt key id (kid): ${a.jwtKeys[0]?.kid}`,
          `  webhook secret (shown once; also in ${relative(result.files.at(-1) ?? '')}): ${result.webhookSecret}`,
        ].join('\n'),
      );
      return 0;
    }
    case 'list': {
      parseOptions(rest, {});
      const { agencies } = readRegistry(config.certsDir);
      if (agencies.length === 0) {
        io.stdout('no agencies registered');
        return 0;
      }
      for (const a of agencies) {
        const live = a.certificates.filter((c) => !c.revokedAt).length;
        io.stdout(
          `${a.id}\t${a.kind}\t${a.status}\t${a.name}\tkeys=${a.jwtKeys.length}\tcerts=${live}${a.webhookUrl ? `\twebhook=${a.webhookUrl}` : ''}`,
        );
      }
      return 0;
    }
    case 'suspend':
    case 'reactivate': {
      const { values } = parseOptions(rest, { id: { type: 'string' } });
      const id = required(values, 'id');
      const a =
        sub === 'suspend' ? suspendAgency(config.certsDir, id) : reactivateAgency(config.certsDir, id);
      io.stdout(`agency ${a.id} is now ${a.status}`);
      return 0;
    }
    case 'key': {
      const [action, ...more] = rest;
      const { values } = parseOptions(more, {
        id: { type: 'string' },
        'jwt-public-key': { type: 'string' },
        kid: { type: 'string' },
      });
      const id = required(values, 'id');
      if (action === 'add') {
        const kid = addJwtKey(config.certsDir, id, readKeyFile(required(values, 'jwt-public-key')));
        io.stdout(`key ${kid} registered for ${id}`);
        return 0;
      }
      if (action === 'remove') {
        removeJwtKey(config.certsDir, id, required(values, 'kid'));
        io.stdout(`key removed from ${id}`);
        return 0;
      }
      throw new UsageError('usage: sgw agency key add|remove --id ID (--jwt-public-key FILE | --kid KID)');
    }
    case 'webhook':
    case 'webhook-secret':
      return agencyWebhookCommand(sub, rest, config, io);
    default:
      throw new UsageError('usage: sgw agency add|list|suspend|reactivate|key|webhook|webhook-secret …');
  }
}

export const CERT_USAGE =
  'cert revoke --agency ID [--serial S] | cert client --agency ID | cert server [--hostname H]';

export function certCommand(args: string[], config: Config, io: CliIo): number {
  const [sub, ...rest] = args;
  if (sub === 'server') {
    const { values } = parseOptions(rest, { hostname: { type: 'string' } });
    const cert = renewServerCertificate(config.certsDir, {
      ...(values.hostname ? { hostname: values.hostname } : {}),
    });
    io.stdout(
      `server certificate ${cert.serial} issued, valid ${cert.notBefore} through ${cert.notAfter}; running gateways serve it within seconds`,
    );
    return 0;
  }
  if (sub === 'client') {
    const { values } = parseOptions(rest, { agency: { type: 'string' } });
    const id = required(values, 'agency');
    const { certificate, files } = renewClientCertificate(config.certsDir, id);
    io.stdout(
      [
        `client certificate ${certificate.serial} issued to ${id}, valid ${certificate.notBefore} through ${certificate.notAfter}:`,
        ...files.map((f) => `  ${relative(f)}`),
        'Its earlier certificates stay valid until they expire; once the agency has switched, revoke them',
        `with: sgw cert revoke --agency ${id} --serial SERIAL`,
      ].join('\n'),
    );
    return 0;
  }
  if (sub !== 'revoke') throw new UsageError(`usage: sgw ${CERT_USAGE}`);
  const { values } = parseOptions(rest, { agency: { type: 'string' }, serial: { type: 'string' } });
  const id = required(values, 'agency');
  const serials = revokeAgencyCertificates(config.certsDir, id, values.serial);
  io.stdout(
    serials.length === 0
      ? `agency ${id} had no certificate left to revoke`
      : `revoked ${serials.length} certificate(s) of ${id}: ${serials.join(', ')}`,
  );
  return 0;
}

export function tokenCommand(args: string[], config: Config, io: CliIo): number {
  const { values } = parseOptions(args, {
    agency: { type: 'string' },
    sub: { type: 'string' },
    role: { type: 'string' },
    name: { type: 'string' },
    ttl: { type: 'string' },
  });
  const agency = required(values, 'agency');
  validateAgencyId(agency);
  const ttlText = values.ttl ?? '3600';
  if (!/^\d+$/.test(ttlText) || Number(ttlText) < 1 || Number(ttlText) > 3600) {
    throw new UsageError('--ttl must be a whole number of seconds from 1 to 3600');
  }
  const record = readRegistry(config.certsDir).agencies.find((a) => a.id === agency);
  if (!record) throw new UsageError(`no agency ${agency}`);
  const role = required(values, 'role');
  if (!roleBelongsToKind(role, record.kind)) {
    throw new UsageError(`role ${role} does not belong to a ${record.kind} agency`);
  }
  io.stdout(
    mintToken(config.certsDir, {
      agency,
      sub: required(values, 'sub'),
      role,
      ...(values.name !== undefined ? { name: values.name } : {}),
      ttlSeconds: Number(ttlText),
      audience: config.gatewayId,
    }),
  );
  return 0;
}
