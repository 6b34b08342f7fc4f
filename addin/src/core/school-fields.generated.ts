// DO NOT EDIT: generated from server/modules/school/school.entity.ts by `npm run schema:emit`, then `node addin/build.mjs --update`.
import type { ColumnKind } from './types';

/**
 * The "Schools" dataset: header, kind and where the value is in a School of schema/operations/Schools.graphql,
 * and the names =HNH.SCHOOL(urn, field) knows it by (lower case, no spaces).
 */
export const SCHOOL_DATASET_COLUMNS: readonly {
  header: string;
  kind: ColumnKind;
  path: readonly string[];
  names: readonly string[];
}[] = [
  {"header":"URN","kind":"int","path":["urn"],"names":["urn"]},
  {"header":"LAESTAB","kind":"int","path":["laestab"],"names":["laestab"]},
  {"header":"Name","kind":"text","path":["name"],"names":["name"]},
  {"header":"Phase","kind":"text","path":["phase"],"names":["phase"]},
  {"header":"Type","kind":"text","path":["type"],"names":["type"]},
  {"header":"Establishment type","kind":"text","path":["establishmentType"],"names":["establishmenttype"]},
  {"header":"Status","kind":"text","path":["status"],"names":["status"]},
  {"header":"Open date","kind":"date","path":["openDate"],"names":["opendate"]},
  {"header":"Close date","kind":"date","path":["closeDate"],"names":["closedate"]},
  {"header":"District code","kind":"text","path":["districtCode"],"names":["districtcode"]},
  {"header":"District","kind":"text","path":["district","name"],"names":["districtname"]},
  {"header":"Community","kind":"text","path":["community","code"],"names":["communitycode","community"]},
  {"header":"Community name","kind":"text","path":["community","name"],"names":["communityname"]},
  {"header":"Postcode","kind":"text","path":["postcode"],"names":["postcode"]},
  {"header":"UKPRN","kind":"int","path":["ukprn"],"names":["ukprn"]},
  {"header":"Pupils on roll","kind":"int","path":["pupilsOnRoll"],"names":["pupilsonroll"]},
  {"header":"% FSM","kind":"points","path":["percentFsm"],"names":["percentfsm"]},
  {"header":"SRP capacity","kind":"int","path":["srpCapacity"],"names":["srpcapacity"]},
  {"header":"SRP on roll","kind":"int","path":["srpOnRoll"],"names":["srponroll"]},
];
