/**
 * Who takes part in the demo, and about whom: synthetic agencies, practitioners and people only. The
 * child's NHS number is the one NHS England publishes for testing; the adult's PNC id is made up.
 */
export const AGENCIES = {
  csc: { id: 'demo-csc', name: 'Demo Children’s Services', kind: 'children_social_care' },
  gp: { id: 'demo-gp', name: 'Demo Riverside Surgery', kind: 'health' },
  police: { id: 'demo-police', name: 'Demo County Police', kind: 'police' },
  probation: { id: 'demo-probation', name: 'Demo Regional Probation', kind: 'probation' },
} as const;

export type AgencyKey = keyof typeof AGENCIES;

export interface Practitioner {
  agency: AgencyKey;
  role: string;
  sub: string;
  name: string;
  /** How the line names them. */
  label: string;
}

export const SOCIAL_WORKER: Practitioner = {
  agency: 'csc',
  role: 'social_worker',
  sub: 'sw-demo-1',
  name: 'Demo Social Worker',
  label: 'social worker',
};
export const MASH_OFFICER: Practitioner = {
  agency: 'csc',
  role: 'mash_officer',
  sub: 'mash-demo-1',
  name: 'Demo MASH Officer',
  label: 'MASH officer',
};
export const POLICE_OFFICER: Practitioner = {
  agency: 'police',
  role: 'police_officer',
  sub: 'pc-demo-1',
  name: 'Demo Police Officer',
  label: 'police officer',
};
export const PROBATION_OFFICER: Practitioner = {
  agency: 'probation',
  role: 'probation_officer',
  sub: 'po-demo-1',
  name: 'Demo Probation Officer',
  label: 'probation officer',
};
export const GP: Practitioner = { agency: 'gp', role: 'gp', sub: 'gp-demo-1', name: 'Demo GP', label: 'GP' };
export const AUDITOR: Practitioner = {
  agency: 'csc',
  role: 'auditor',
  sub: 'dpo-demo-1',
  name: 'Demo Data Protection Officer',
  label: 'auditor',
};

export const CHILD_NHS = '9434765919';
export const CHILD = {
  type: 'child',
  nhsNumber: '943 476 5919',
  name: { given: 'Sam', family: 'Example' },
  dateOfBirth: '2018-03-14',
};
export const ADULT = {
  type: 'adult',
  pncId: '2001/0012345X',
  name: { given: 'Alex', family: 'Example' },
  dateOfBirth: '1990-07-02',
};
export const CASE_REFERENCE = 'DEMO-CASE-0001';
