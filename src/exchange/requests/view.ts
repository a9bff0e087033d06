import type { RequestStatus, RequestViewT } from './schemas.js';
import type { InfoRequest } from './store.js';

/** `overdue` is derived on read: past respondBy with no answer, whatever a sweep has done yet. */
export function statusOf(r: InfoRequest, now: Date): RequestStatus {
  if (r.status === 'awaiting_response' && r.respondBy.getTime() < now.getTime()) return 'overdue';
  return r.status;
}

/** A request as its parties see it; only the holder sees what the policy kept back from the answer. */
export function viewOf(r: InfoRequest, isHolder: boolean, now: Date): RequestViewT {
  const v: RequestViewT = {
    id: r.id,
    status: statusOf(r, now),
    from: r.fromAgency,
    to: r.toAgency,
    purpose: r.purpose,
    subject: r.subject,
    categories: r.categories,
    granted: r.granted,
    refused: r.refused,
    lawfulBasis: r.lawfulBasis,
    consent: r.consent,
    ...(r.consentRecordId ? { consentRecordId: r.consentRecordId } : {}),
    ...(r.consentNotice ? { consentNotice: r.consentNotice } : {}),
    justification: r.justification,
    respondBy: r.respondBy.toISOString(),
    createdAt: r.createdAt.toISOString(),
  };
  if (r.relatedChildren) v.relatedChildren = r.relatedChildren;
  if (r.override) v.override = r.override;
  if (r.caseReference) v.caseReference = r.caseReference;
  if (r.status === 'responded' && r.respondedAt) {
    v.response = {
      data: r.responseData ?? {},
      respondedAt: r.respondedAt.toISOString(),
      ...(r.withheld ? { withheld: r.withheld.map(({ category, reason }) => ({ category, reason })) } : {}),
      ...(isHolder ? { released: r.released ?? {}, withheldByPolicy: r.withheldByPolicy ?? {} } : {}),
    };
  }
  if (r.status === 'declined' && r.declinedAt) {
    v.decline = { reason: r.declineReason ?? '', declinedAt: r.declinedAt.toISOString() };
  }
  return v;
}
