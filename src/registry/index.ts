export {
  type AddAgencyInput,
  addAgency,
  addJwtKey,
  RegistryInputError,
  reactivateAgency,
  removeJwtKey,
  renewClientCertificate,
  revokeAgencyCertificates,
  suspendAgency,
  validateAgencyId,
  validateWebhookUrl,
} from './agencies.js';
export { CaExistsError, initCa, issueCertificate, renewServerCertificate, VALIDITY_DAYS } from './ca.js';
export { writeFileAtomic } from './files.js';
export { certPaths } from './paths.js';
export {
  type AgencyRecord,
  type JwtKeyRecord,
  jwkThumbprint,
  jwtKeyFromPem,
  type RegistryFile,
  readRegistry,
} from './store.js';
export { type MintTokenInput, mintToken } from './token.js';
export { RegistryView } from './view.js';
export {
  finishWebhookRotation,
  type RotationResult,
  rotateWebhookSecret,
  setWebhookUrl,
  WEBHOOK_SECRET_GRACE_HOURS,
} from './webhooks.js';
