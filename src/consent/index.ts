/** The consent registry (contract section 8): records, and which of them cover a decision. */
export { type CategoryConsent, type ConsentQuery, consentCoverage } from './records.js';
