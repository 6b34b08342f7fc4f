// DO NOT EDIT: generated from server/modules/school/school.entity.ts by `npm run schema:emit`, then `node addin/build.mjs --update`.
import type { ColumnKind } from './types';

/** The "Schools" dataset: header, kind and where the value is in a School of schema/operations/Schools.graphql. */
export const SCHOOL_DATASET_COLUMNS: readonly { header: string; kind: ColumnKind; path: readonly string[] }[] = [
  { header: "URN", kind: 'int', path: ["urn"] },
  { header: "LAESTAB", kind: 'int', path: ["laestab"] },
  { header: "Name", kind: 'text', path: ["name"] },
  { header: "Phase", kind: 'text', path: ["phase"] },
  { header: "Type", kind: 'text', path: ["type"] },
  { header: "Establishment type", kind: 'text', path: ["establishmentType"] },
  { header: "Status", kind: 'text', path: ["status"] },
  { header: "Open date", kind: 'date', path: ["openDate"] },
  { header: "Close date", kind: 'date', path: ["closeDate"] },
  { header: "District code", kind: 'text', path: ["districtCode"] },
  { header: "District", kind: 'text', path: ["district","name"] },
  { header: "Community", kind: 'text', path: ["community","code"] },
  { header: "Community name", kind: 'text', path: ["community","name"] },
  { header: "Postcode", kind: 'text', path: ["postcode"] },
  { header: "UKPRN", kind: 'int', path: ["ukprn"] },
  { header: "Pupils on roll", kind: 'int', path: ["pupilsOnRoll"] },
  { header: "% FSM", kind: 'points', path: ["percentFsm"] },
  { header: "SRP capacity", kind: 'int', path: ["srpCapacity"] },
  { header: "SRP on roll", kind: 'int', path: ["srpOnRoll"] },
];

/** =HNH.SCHOOL(urn, field): each field name (lower case, no spaces) and where its value is in a School. */
export const SCHOOL_FUNCTION_FIELDS: Readonly<Record<string, readonly string[]>> = {
  urn: ["urn"],
  laestab: ["laestab"],
  name: ["name"],
  phase: ["phase"],
  type: ["type"],
  establishmenttype: ["establishmentType"],
  status: ["status"],
  opendate: ["openDate"],
  closedate: ["closeDate"],
  districtcode: ["districtCode"],
  districtname: ["district","name"],
  communitycode: ["community","code"],
  community: ["community","code"],
  communityname: ["community","name"],
  postcode: ["postcode"],
  ukprn: ["ukprn"],
  pupilsonroll: ["pupilsOnRoll"],
  percentfsm: ["percentFsm"],
  srpcapacity: ["srpCapacity"],
  srponroll: ["srpOnRoll"],
};
