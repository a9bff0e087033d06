/** The consent registry (contract section 8): its routes, and which records cover a decision. */
export {
  type ApplicableConsent,
  type CategoryConsent,
  type ConsentQuery,
  type ConsentStatus,
  consentCoverage,
  partiesOf,
  samePerson,
} from './records.js';
export { type ConsentRoutesOptions, consentRoutes } from './routes.js';
