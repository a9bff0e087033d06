export const AGENCY_KINDS = ['health', 'children_social_care', 'police', 'probation'] as const;
export type AgencyKind = (typeof AGENCY_KINDS)[number];

/** Roles every kind of agency has: the DPO / Caldicott guardian, and the agency's administrator. */
export const COMMON_ROLES = ['auditor', 'agency_admin'] as const;

export const ROLES_BY_KIND = {
  health: ['gp', 'safeguarding_lead'],
  children_social_care: ['social_worker', 'team_manager', 'mash_officer'],
  police: ['police_officer', 'public_protection_officer'],
  probation: ['probation_officer', 'mappa_coordinator'],
} as const satisfies Record<AgencyKind, readonly string[]>;

export type PractitionerRole = (typeof ROLES_BY_KIND)[AgencyKind][number] | (typeof COMMON_ROLES)[number];

export const ALL_ROLES: readonly PractitionerRole[] = [
  ...new Set<PractitionerRole>([...Object.values(ROLES_BY_KIND).flat(), ...COMMON_ROLES]),
];

/** The roles that act on cases (everything but auditor and agency_admin). */
export function practiceRoles(kind: AgencyKind): readonly PractitionerRole[] {
  return ROLES_BY_KIND[kind];
}

export function roleBelongsToKind(role: string, kind: AgencyKind): role is PractitionerRole {
  return (
    (ROLES_BY_KIND[kind] as readonly string[]).includes(role) ||
    (COMMON_ROLES as readonly string[]).includes(role)
  );
}

export function isAgencyKind(value: string): value is AgencyKind {
  return (AGENCY_KINDS as readonly string[]).includes(value);
}

/** The authenticated caller of a /v1 route, put on the request by the identity wall. */
export interface Practitioner {
  /** Agency id (the client certificate's CN, equal to the token's `iss`). */
  agency: string;
  kind: AgencyKind;
  sub: string;
  role: PractitionerRole;
  name: string;
  /** The token's `jti`, kept for the ledger and for tracing. */
  jti: string;
}

/** The practitioner as a ledger entry's actor. */
export const actorOf = (p: Practitioner) => ({ agency: p.agency, sub: p.sub, role: p.role });
