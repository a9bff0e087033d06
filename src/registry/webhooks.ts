import { randomBytes } from 'node:crypto';
import { RegistryInputError, validateAgencyId, validateWebhookUrl } from './agencies.js';
import { SECRET_MODE, writeFileAtomic } from './files.js';
import { certPaths } from './paths.js';
import { type AgencyRecord, readRegistry, writeRegistry } from './store.js';

/** How long the previous secret keeps signing after a rotation, unless the rotation is finished sooner. */
export const WEBHOOK_SECRET_GRACE_HOURS = 24;

function changeAgency(certsDir: string, id: string, change: (a: AgencyRecord) => void): AgencyRecord {
  validateAgencyId(id);
  const registry = readRegistry(certsDir);
  const agency = registry.agencies.find((a) => a.id === id);
  if (!agency) throw new RegistryInputError(`no agency ${id}`);
  change(agency);
  writeRegistry(certsDir, registry);
  return agency;
}

export function newWebhookSecret(): string {
  return randomBytes(32).toString('hex');
}

export interface RotationResult {
  secret: string;
  file: string;
  previousUntil: string;
}

/**
 * `sgw agency webhook-secret rotate`: a new secret signs from now on, and the previous one beside it
 * for the grace period, so that the agency can switch its receiver over without losing a delivery.
 * A second rotation within the grace period retires the oldest secret at once.
 */
export function rotateWebhookSecret(
  certsDir: string,
  id: string,
  now = new Date(),
  graceHours = WEBHOOK_SECRET_GRACE_HOURS,
): RotationResult {
  const secret = newWebhookSecret();
  const previousUntil = new Date(now.getTime() + graceHours * 3600_000).toISOString();
  const file = certPaths(certsDir).webhookSecret(id);
  changeAgency(certsDir, id, (a) => {
    a.previousWebhookSecret = a.webhookSecret;
    a.previousWebhookSecretUntil = previousUntil;
    a.webhookSecret = secret;
  });
  // After the registry: the file is the operator's copy to hand to the agency, not what signs.
  writeFileAtomic(file, `${secret}\n`, SECRET_MODE);
  return { secret, file, previousUntil };
}

/** `sgw agency webhook-secret finish`: the previous secret stops signing now. Returns whether there was one. */
export function finishWebhookRotation(certsDir: string, id: string): boolean {
  let had = false;
  changeAgency(certsDir, id, (a) => {
    had = a.previousWebhookSecret !== undefined;
    delete a.previousWebhookSecret;
    delete a.previousWebhookSecretUntil;
  });
  return had;
}

/**
 * `sgw agency webhook set|remove`. The caller checks the URL against the request-forgery guard first
 * (notify's checkWebhookUrl needs DNS); this checks its form again and writes it.
 */
export function setWebhookUrl(certsDir: string, id: string, url: string | undefined): AgencyRecord {
  if (url !== undefined) validateWebhookUrl(url);
  return changeAgency(certsDir, id, (a) => {
    if (url === undefined) delete a.webhookUrl;
    else a.webhookUrl = url;
  });
}
