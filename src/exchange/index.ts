/** Exchanges between agencies: information requests and their answers (contract section 6), flags (section 7). */
export { flagRoutes } from './flags/routes.js';
export type { FlagServiceDeps } from './flags/service.js';
export { startOverdueSweep, sweepOverdueRequests } from './requests/overdue.js';
export { requestRoutes } from './requests/routes.js';
export type { RequestServiceDeps } from './requests/service.js';
