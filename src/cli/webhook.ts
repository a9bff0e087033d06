import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Config } from '../config/index.js';
import {
  checkWebhookUrl,
  listDeadLetters,
  postWebhook,
  readWebhookCa,
  replayDeadLetters,
  signingSecrets,
  WebhookUrlRefused,
} from '../notify/index.js';
import {
  finishWebhookRotation,
  RegistryInputError,
  readRegistry,
  rotateWebhookSecret,
  setWebhookUrl,
  validateAgencyId,
} from '../registry/index.js';
import { openStore } from '../store/index.js';
import { type CliIo, parseOptions, required, UsageError } from './io.js';

export const WEBHOOK_USAGE = `  agency webhook set --id ID --url URL | agency webhook remove --id ID
  agency webhook-secret rotate --id ID | finish --id ID
  webhook dead-letters [--agency ID] [--all]   dead letters (--all: replayed ones too)
  webhook replay --event ID | --agency ID --all  queue dead-lettered events again
  webhook test --agency ID                      send a signed webhook.test event and print the outcome`;

/**
 * The request-forgery guard at registration: a URL that resolves to a refused address is refused; one
 * that does not resolve yet is accepted with a warning (it is checked again at every delivery).
 */
export async function checkRegisteredUrl(url: string, config: Config, io: CliIo): Promise<void> {
  try {
    await checkWebhookUrl(url, config.webhooks);
  } catch (err) {
    if (err instanceof WebhookUrlRefused && err.code === 'dns_error') {
      io.stderr(`warning: the webhook host does not resolve now; it is checked again at every delivery`);
      return;
    }
    if (err instanceof WebhookUrlRefused) throw new RegistryInputError(err.message);
    throw err;
  }
}

/** `sgw agency webhook set|remove` and `sgw agency webhook-secret rotate|finish`. */
export async function agencyWebhookCommand(
  sub: 'webhook' | 'webhook-secret',
  args: string[],
  config: Config,
  io: CliIo,
): Promise<number> {
  const [action, ...rest] = args;
  if (sub === 'webhook') {
    const { values } = parseOptions(rest, { id: { type: 'string' }, url: { type: 'string' } });
    const id = required(values, 'id');
    if (action === 'set') {
      const url = required(values, 'url');
      await checkRegisteredUrl(url, config, io);
      setWebhookUrl(config.certsDir, id, url);
      io.stdout(`webhook of ${id} set to ${url}`);
      return 0;
    }
    if (action === 'remove') {
      setWebhookUrl(config.certsDir, id, undefined);
      io.stdout(`webhook of ${id} removed: its events stay in its inbox only`);
      return 0;
    }
    throw new UsageError('usage: sgw agency webhook set --id ID --url URL | remove --id ID');
  }
  const { values } = parseOptions(rest, { id: { type: 'string' } });
  const id = required(values, 'id');
  if (action === 'rotate') {
    const r = rotateWebhookSecret(config.certsDir, id);
    io.stdout(
      [
        `webhook secret of ${id} rotated`,
        `  new secret (shown once; also in ${path.relative(process.cwd(), r.file) || r.file}): ${r.secret}`,
        `  the previous secret also signs until ${r.previousUntil} (end it sooner: sgw agency webhook-secret finish --id ${id})`,
      ].join('\n'),
    );
    return 0;
  }
  if (action === 'finish') {
    const had = finishWebhookRotation(config.certsDir, id);
    io.stdout(had ? `the previous webhook secret of ${id} no longer signs` : `${id} had no previous secret`);
    return 0;
  }
  throw new UsageError('usage: sgw agency webhook-secret rotate --id ID | finish --id ID');
}

async function withStore<T>(config: Config, fn: (db: Awaited<ReturnType<typeof openStore>>) => Promise<T>) {
  const db = await openStore(config);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** `sgw webhook dead-letters|replay|test`. */
export async function webhookCommand(args: string[], config: Config, io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'dead-letters': {
      const { values } = parseOptions(rest, { agency: { type: 'string' }, all: { type: 'boolean' } });
      if (values.agency !== undefined) validateAgencyId(values.agency);
      const letters = await withStore(config, (db) =>
        listDeadLetters(db, {
          ...(values.agency !== undefined ? { agency: values.agency } : {}),
          includeReplayed: values.all === true,
        }),
      );
      if (letters.length === 0) {
        io.stdout('no dead letters');
        return 0;
      }
      io.stdout('event\tagency\ttype\tattempts\tdead at\tlast error\treplayed at');
      for (const l of letters) {
        io.stdout(
          [l.eventId, l.agency, l.type, l.attempts, l.deadAt, l.lastError, l.replayedAt ?? '-'].join('\t'),
        );
      }
      return 0;
    }
    case 'replay': {
      const { values } = parseOptions(rest, {
        event: { type: 'string' },
        agency: { type: 'string' },
        all: { type: 'boolean' },
      });
      let which: { eventId: string } | { agency: string };
      if (values.event !== undefined && values.agency === undefined) which = { eventId: values.event };
      else if (values.agency !== undefined && values.event === undefined && values.all === true) {
        validateAgencyId(values.agency);
        which = { agency: values.agency };
      } else throw new UsageError('usage: sgw webhook replay --event ID | --agency ID --all');
      const ids = await withStore(config, (db) => replayDeadLetters(db, which));
      if (ids.length === 0) {
        io.stderr('no open dead letter matches');
        return 1;
      }
      for (const id of ids) io.stdout(`replaying ${id}`);
      io.stdout(`${ids.length} event(s) back in the outbox: a running gateway delivers them`);
      return 0;
    }
    case 'test': {
      const { values } = parseOptions(rest, { agency: { type: 'string' } });
      const id = required(values, 'agency');
      validateAgencyId(id);
      const agency = readRegistry(config.certsDir).agencies.find((a) => a.id === id);
      if (!agency) throw new UsageError(`no agency ${id}`);
      if (!agency.webhookUrl) {
        io.stderr(`agency ${id} has no webhook URL (sgw agency webhook set --id ${id} --url URL)`);
        return 1;
      }
      const event = {
        id: randomUUID(),
        agency: id,
        type: 'webhook.test',
        occurredAt: new Date().toISOString(),
        data: { agency: id },
      };
      const outcome = await postWebhook(agency.webhookUrl, signingSecrets(agency), event, {
        ...config.webhooks,
        extraCa: readWebhookCa(config.webhooks.caFile),
      });
      if (outcome.ok) {
        io.stdout(`delivered webhook.test ${event.id} to ${id}: HTTP ${outcome.status}`);
        return 0;
      }
      io.stderr(`webhook.test ${event.id} to ${id} failed: ${outcome.code}`);
      return 1;
    }
    default:
      throw new UsageError(`webhook needs dead-letters, replay or test\n${WEBHOOK_USAGE}`);
  }
}
