export { checkClientCertificate } from './mtls.js';
export * from './roles.js';
export { CLOCK_LEEWAY_S, MAX_TOKEN_LIFETIME_S, practitionerOf, registerIdentityWall } from './wall.js';
