import { Area, District } from './geography/geography.entity';
import { Community, CommunityMembership } from './community/community.entity';
import { School } from './school/school.entity';
import { SchoolLinkRow } from './school/school-link.entity';
import { PendingRecompute } from './school/pending-recompute.entity';
import { EarlyYearsSetting } from './early-years/early-years.entity';
import { AcademicYear, FinancialYear, FundingTerm, SchoolTerm } from './period/period.entity';
import {
  CommunityPot,
  EhcpBandCount,
  HighNeedsBlockLine,
  NotionalSenFactor,
  SchoolTermFunding,
} from './funding/funding.entity';
import {
  BlockForecastSnapshot,
  SafetyValveAgreement,
  SafetyValveInstalment,
  SafetyValveKpi,
  SafetyValvePlanYear,
  SafetyValveReport,
} from './safety-valve/safety-valve.entity';
import { DsgIncomeYear, Placement, PlaceNumber, TopUpCount } from './funding/block.entity';
import { CaseloadCount, CaseloadWorker } from './caseload/caseload.entity';
import { ApiToken } from './auth/auth.entity';
import { Allocation, IdempotencyRecord } from './allocation/allocation.entity';
import { AuditLog } from './audit/audit.entity';
import { ModelParameterSet, Scenario } from './scenario/scenario.entity';
import { HubInstance } from './instance/hub-instance.entity';

/** The one registry of entities. Resolvers are registered in ../schema.ts. */
export const entities = [
  Area,
  District,
  Community,
  CommunityMembership,
  School,
  SchoolLinkRow,
  PendingRecompute,
  EarlyYearsSetting,
  FinancialYear,
  AcademicYear,
  FundingTerm,
  SchoolTerm,
  NotionalSenFactor,
  SchoolTermFunding,
  CommunityPot,
  HighNeedsBlockLine,
  EhcpBandCount,
  SafetyValveAgreement,
  SafetyValveReport,
  SafetyValveKpi,
  PlaceNumber,
  TopUpCount,
  Placement,
  DsgIncomeYear,
  SafetyValvePlanYear,
  SafetyValveInstalment,
  BlockForecastSnapshot,
  CaseloadWorker,
  CaseloadCount,
  ApiToken,
  Allocation,
  IdempotencyRecord,
  AuditLog,
  ModelParameterSet,
  Scenario,
  HubInstance,
];
