/*
 * The HNH custom functions. The JSDoc blocks below are the functions' metadata: functions.json is
 * generated from them at build and compared with the tracked copy. Parameters are typed `any` so the
 * functions themselves can name a bad argument (Excel's own type check would give a bare #VALUE!).
 */
import { Batcher, FunctionFailure } from './batcher';
import { HnhFunctions } from './logic';
import { session } from '../shared/session';

function hnh(): HnhFunctions {
  const s = session();
  if (!s.batcher) {
    s.batcher = new Batcher({
      execute: () => (s.client ? (q, v) => s.client!.execute(q, v, s.timeoutMs) : null),
      timeoutMs: s.timeoutMs,
    });
  }
  return new HnhFunctions(s.batcher);
}

/** The two Excel errors that carry a message: #VALUE! for the caller's mistake, #N/A for everything else. */
async function settle<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    const f = e instanceof FunctionFailure ? e : new FunctionFailure('NA', (e as Error)?.message ?? 'Failed');
    const code = f.code === 'VALUE' ? CustomFunctions.ErrorCode.invalidValue : CustomFunctions.ErrorCode.notAvailable;
    throw new CustomFunctions.Error(code, f.message.slice(0, 255));
  }
}

/**
 * A school's high-needs funding for a funding term (figures of record, or a scenario's).
 * @customfunction FUNDING
 * @param urn School URN, e.g. 118234.
 * @param term Funding term code, e.g. "SUMMER-2025".
 * @param line One of baseline, protectionRate, protected, communityShare, bandedTopUp, total (a scenario has all but protectionRate).
 * @param [scenario] Scenario id (Finance and the Sub-Group); leave out for the figures of record.
 * @returns The amount in pounds.
 */
export function funding(urn: any, term: any, line: any, scenario?: any): Promise<any> {
  return settle(() => hnh().funding(urn, term, line, scenario));
}

/**
 * A Community of Schools' pot for a funding term.
 * @customfunction POT
 * @param community Community code, e.g. "ASH-02".
 * @param term Funding term code, e.g. "AUTUMN-2025".
 * @param [scenario] Scenario id (Finance and the Sub-Group); leave out for the figures of record.
 * @returns The pot in pounds.
 */
export function pot(community: any, term: any, scenario?: any): Promise<any> {
  return settle(() => hnh().pot(community, term, scenario));
}

/**
 * A school's notional SEN budget for a financial year.
 * @customfunction NOTIONALSEN
 * @param urn School URN.
 * @param year Financial year, e.g. "2025-26".
 * @returns The budget in pounds.
 */
export function notionalSen(urn: any, year: any): Promise<any> {
  return settle(() => hnh().notionalSen(urn, year));
}

/**
 * One field of a school's record.
 * @customfunction SCHOOL
 * @param urn School URN.
 * @param field One of name, laestab, phase, type, status, districtCode, community, postcode, pupilsOnRoll, percentFsm, srpCapacity, srpOnRoll, openDate, closeDate.
 * @returns The field's value.
 */
export function school(urn: any, field: any): Promise<any> {
  return settle(() => hnh().school(urn, field));
}

/**
 * A caseload count; "c" when the count is suppressed for your role.
 * @customfunction CASELOAD
 * @param kind Caseload kind, e.g. "EHCP_PLANS".
 * @param key Worker, school or district key, e.g. "LW-017".
 * @param [period] School term, e.g. "2025/26-T1".
 * @returns The count, or "c" when suppressed.
 */
export function caseload(kind: any, key: any, period?: any): Promise<any> {
  return settle(() => hnh().caseload(kind, key, period));
}

export function registerFunctions(): void {
  CustomFunctions.associate('FUNDING', funding);
  CustomFunctions.associate('POT', pot);
  CustomFunctions.associate('NOTIONALSEN', notionalSen);
  CustomFunctions.associate('SCHOOL', school);
  CustomFunctions.associate('CASELOAD', caseload);
}
