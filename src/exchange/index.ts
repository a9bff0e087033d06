/**
 * Exchanges between agencies: information requests and their answers (contract section 6), flags (7),
 * the inbox (12).
 */
export { flagRoutes } from './flags/routes.js';
export type { FlagServiceDeps } from './flags/service.js';
export { type InboxRoutesOptions, inboxRoutes } from './inbox/routes.js';
export { startOverdueSweep, sweepOverdueRequests } from './requests/overdue.js';
export { requestRoutes } from './requests/routes.js';
export type { RequestServiceDeps } from './requests/service.js';
export { committedTexts } from './texts.js';
