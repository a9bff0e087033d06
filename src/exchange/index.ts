/** Exchanges between agencies: information requests and their answers (contract section 6), the inbox (12). */
export { type InboxRoutesOptions, inboxRoutes } from './inbox/routes.js';
export { startOverdueSweep, sweepOverdueRequests } from './requests/overdue.js';
export { requestRoutes } from './requests/routes.js';
export type { RequestServiceDeps } from './requests/service.js';
export { committedTexts } from './texts.js';
