/**
 * Exchanges between agencies: safeguarding concerns (contract section 5), information requests with
 * their answers (section 6), flags (7), the inbox (12), and the sweep that keeps the journeys' deadlines.
 */
export { sweepOverdueConcerns } from './concerns/overdue.js';
export { concernRoutes } from './concerns/routes.js';
export type { ConcernServiceDeps } from './concerns/service.js';
export { flagRoutes } from './flags/routes.js';
export type { FlagServiceDeps } from './flags/service.js';
export { type InboxRoutesOptions, inboxRoutes } from './inbox/routes.js';
export { type OverdueSweepLogger, startOverdueSweep } from './overdue.js';
export { sweepOverdueRequests } from './requests/overdue.js';
export { requestRoutes } from './requests/routes.js';
export type { RequestServiceDeps } from './requests/service.js';
export { committedTexts } from './texts.js';
