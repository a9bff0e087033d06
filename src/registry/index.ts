export {
  type AddAgencyInput,
  addAgency,
  addJwtKey,
  RegistryInputError,
  reactivateAgency,
  removeJwtKey,
  revokeAgencyCertificates,
  suspendAgency,
  validateAgencyId,
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
