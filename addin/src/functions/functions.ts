/*
 * The HNH custom functions. The JSDoc blocks below are the functions' metadata: functions.json is
 * generated from them at build and compared with the tracked copy. Parameters are typed `any` so the
 * functions themselves can name a bad argument (Excel's own type check would give a bare #VALUE!).
 */
import { Batcher, FunctionFailure } from './batcher';
import { HnhFunctions } from './logic';
import { session } from '../shared/session';

function hnh(invocation?: CustomFunctions.Invocation): HnhFunctions {
  const s = session();
  if (!s.batcher) {
    s.batcher = new Batcher({
      execute: () => (s.client ? (q, v) => s.client!.execute(q, v, s.timeoutMs) : null),
      timeoutMs: s.timeoutMs,
    });
  }
  return new HnhFunctions(s.batcher, invocation?.address);
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

// The help text below is what Excel shows while typing a formula; the term codes are the ones the pane's
// term list shows (SUMMER-2026 …), so what a person picks in the pane is what they type here.

/**
 * A school's high-needs funding for a funding term (figures of record, or a scenario's).
 * @customfunction FUNDING
 * @requiresAddress
 * @param urn School URN (a number), e.g. 118234.
 * @param term Funding term: SUMMER-2025, AUTUMN-2025, SPRING-2026, SUMMER-2026, AUTUMN-2026, SPRING-2027 (as in the pane's term list).
 * @param line One of: baseline, protectionRate, protected, communityShare, bandedTopUp, total (a scenario has all but protectionRate).
 * @param [scenario] Scenario id, from the pane's scenario list (Finance and the Sub-Group); leave out for the figures of record.
 * @returns The amount in pounds (protectionRate: a rate from 0 to 1); "c" for bandedTopUp and total when the banded top-up is suppressed for your role.
 */
export function funding(
  urn: any,
  term: any,
  line: any,
  scenario?: any,
  invocation?: CustomFunctions.Invocation,
): Promise<any> {
  return settle(() => hnh(invocation).funding(urn, term, line, scenario));
}

/**
 * A Community of Schools' pot for a funding term, or what is approved from it or remains.
 * @customfunction POT
 * @requiresAddress
 * @param community Community code, e.g. "ASH-02".
 * @param term Funding term: SUMMER-2025, AUTUMN-2025, SPRING-2026, SUMMER-2026, AUTUMN-2026, SPRING-2027.
 * @param [scenario] Scenario id (Finance and the Sub-Group); leave out for the figures of record.
 * @param [line] One of: amount (the default), approved, remaining.
 * @returns The pot in pounds.
 */
export function pot(
  community: any,
  term: any,
  scenario?: any,
  line?: any,
  invocation?: CustomFunctions.Invocation,
): Promise<any> {
  return settle(() => hnh(invocation).pot(community, term, scenario, line));
}

/**
 * A school's notional SEN budget for a financial year.
 * @customfunction NOTIONALSEN
 * @requiresAddress
 * @param urn School URN (a number).
 * @param year Financial year: 2024-25, 2025-26, 2026-27.
 * @returns The budget in pounds.
 */
export function notionalSen(urn: any, year: any, invocation?: CustomFunctions.Invocation): Promise<any> {
  return settle(() => hnh(invocation).notionalSen(urn, year));
}

/**
 * One field of a school's record.
 * @customfunction SCHOOL
 * @requiresAddress
 * @param urn School URN (a number).
 * @param field A field of the school's record, e.g. name, phase, community, pupilsOnRoll, percentFsm (a name it does not know gets #VALUE! listing them all).
 * @returns The field's value.
 */
export function school(urn: any, field: any, invocation?: CustomFunctions.Invocation): Promise<any> {
  return settle(() => hnh(invocation).school(urn, field));
}

/**
 * A caseload count; "c" when the count is suppressed for your role.
 * @customfunction CASELOAD
 * @requiresAddress
 * @param kind One of: LINK_WORKER_SCHOOLS, LINK_WORKER_SETTINGS, SIPS_CHILDREN, EHCP_PLANS, EYPRG_REFERRALS.
 * @param key A worker code (e.g. "LW-017"), a school URN, a district ONS code (e.g. "E07000105") or a community code.
 * @param [period] School term, e.g. "2025/26-T1" (T1 to T6); leave out for the latest.
 * @returns The count, or "c" when suppressed.
 */
export function caseload(kind: any, key: any, period?: any, invocation?: CustomFunctions.Invocation): Promise<any> {
  return settle(() => hnh(invocation).caseload(kind, key, period));
}

export function registerFunctions(): void {
  CustomFunctions.associate('FUNDING', funding);
  CustomFunctions.associate('POT', pot);
  CustomFunctions.associate('NOTIONALSEN', notionalSen);
  CustomFunctions.associate('SCHOOL', school);
  CustomFunctions.associate('CASELOAD', caseload);
}
