import { MeResolver } from './auth/auth.resolver';
import { AllocationResolver } from './allocation/allocation.resolver';
import { AuditResolver } from './audit/audit.resolver';
import { ModelParameterResolver, ScenarioResolver } from './scenario/scenario.resolver';
import { CaseloadResolver } from './caseload/caseload.resolver';
import { CommunityResolver } from './community/community.resolver';
import { HighNeedsBlockLineResolver, HighNeedsBlockResolver } from './funding/funding.resolver';
import { AreaResolver, DistrictResolver } from './geography/geography.resolver';
import { PeriodResolver } from './period/period.resolver';
import { SafetyValveReportResolver, SafetyValveResolver } from './safety-valve/safety-valve.resolver';
import { SchoolConnectionResolver, SchoolLinkResolver, SchoolResolver } from './school/school.resolver';
import { SchoolClosureResolver } from './school/closure.resolver';
import { SchoolPlaceNumbersResolver } from './funding/place-numbers.resolver';
import { SafetyValveMutationResolver } from './safety-valve/safety-valve.mutations';
import { DataStatusResolver } from './data-status/data-status.resolver';
import {
  BlockLineSourceResolver,
  NotionalSenSourceResolver,
  PotSourceResolver,
  SchoolFundingSourceResolver,
} from './provenance.resolver';

/** The one registry of resolvers. */
export const resolvers = [
  MeResolver,
  SchoolResolver,
  SchoolConnectionResolver,
  SchoolLinkResolver,
  CommunityResolver,
  DistrictResolver,
  AreaResolver,
  PeriodResolver,
  HighNeedsBlockResolver,
  HighNeedsBlockLineResolver,
  SafetyValveResolver,
  SafetyValveReportResolver,
  CaseloadResolver,
  AllocationResolver,
  AuditResolver,
  ScenarioResolver,
  ModelParameterResolver,
  PotSourceResolver,
  SchoolFundingSourceResolver,
  NotionalSenSourceResolver,
  BlockLineSourceResolver,
  SchoolClosureResolver,
  SchoolPlaceNumbersResolver,
  SafetyValveMutationResolver,
  DataStatusResolver,
];
