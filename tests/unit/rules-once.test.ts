import { getMetadataArgsStorage } from 'typeorm';
import { entities } from '../../server/modules/index';
import { WithFileProvenance, WithProvenance, WithTextProvenance } from '../../server/common/provenance';
import { SchoolTermFunding } from '../../server/modules/funding/funding.entity';
import { SCHOOL_TERM_TOTAL_PARTS, schoolTermTotal, schoolTermTotalSql } from '../../server/modules/funding/engine';
import { CaseloadKind, CHILD_COUNT_KINDS } from '../../server/modules/caseload/caseload.entity';
import { scopeOf, sqlScope } from '../../server/modules/caseload/disclosure.store';
import { isSmall, SMALL_MAX, SMALL_MIN, SMALL_RANGE } from '../../server/modules/caseload/small-counts';
import { Role, Viewer } from '../../server/auth/roles';

/**
 * Rules the hub keeps in one place each (issue 12). Each test pins the one rule's behaviour; the
 * integration tests (read-api, caseloads, closures, safety-valve-data) check that every path goes through it.
 */

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const PROVENANCE = ['sourceKind', 'sourceFile', 'sourceBy', 'sourceAt', 'sourceParameterVersion'];

describe("a school's funding total", () => {
  const zero = { protectedAmount: '0.00', communityShare: '0.00', bandedTopUp: '0.00' };

  it('adds every part, each exactly once, to the penny', () => {
    for (const { figure } of SCHOOL_TERM_TOTAL_PARTS)
      expect(schoolTermTotal({ ...zero, [figure]: '1234.56' })).toBe('1234.56');
    expect(schoolTermTotal({ protectedAmount: '0.10', communityShare: '0.20', bandedTopUp: '1999999999.99' })).toBe(
      '2000000000.29',
    );
  });

  it('counts protection, community share and banded top-up, each a money column of school_term_funding', () => {
    expect(SCHOOL_TERM_TOTAL_PARTS.map((p) => p.figure)).toEqual(['protectedAmount', 'communityShare', 'bandedTopUp']);
    const columns = getMetadataArgsStorage()
      .filterColumns(SchoolTermFunding)
      .map((c) => c.propertyName);
    for (const p of SCHOOL_TERM_TOTAL_PARTS) {
      expect(columns).toContain(p.figure);
      expect(p.column).toBe(snake(p.figure));
    }
  });

  it('is the same list of columns in its SQL form', () => {
    expect(schoolTermTotalSql('f')).toBe('(f.protected_amount + f.community_share + f.banded_top_up)');
  });
});

describe('who sees small counts of children unsuppressed', () => {
  const viewer = (role: Role, communityCode: string | null = null): Viewer => ({
    subject: 'test',
    name: 'test',
    role,
    communityCode,
    via: 'token',
  });

  it('exempts Finance and the Sub-Group everywhere, a Chair in their own community, and no analyst', () => {
    const scopes = Object.fromEntries(
      [viewer(Role.FINANCE), viewer(Role.SUBGROUP), viewer(Role.CHAIR, 'ASH-01'), viewer(Role.ANALYST)].map((v) => [
        v.role,
        scopeOf(v, CaseloadKind.EHCP_PLANS),
      ]),
    );
    expect(scopes).toEqual({
      FINANCE: { kind: 'ALL' },
      SUBGROUP: { kind: 'ALL' },
      CHAIR: { kind: 'CHAIR', community: 'ASH-01' },
      ANALYST: { kind: 'ANALYST' },
    });
    // The compiled SQL's scope key is the same rule's answer.
    expect([Role.FINANCE, Role.SUBGROUP, Role.ANALYST].map((r) => sqlScope(viewer(r)))).toEqual([
      null,
      null,
      'ANALYST',
    ]);
    expect(sqlScope(viewer(Role.CHAIR, 'ASH-01'))).toBe('CHAIR:ASH-01');
  });

  it('suppresses nothing for any role in counts that are not about children', () => {
    const other = Object.values(CaseloadKind).filter((k) => !CHILD_COUNT_KINDS.has(k));
    expect(other.length).toBeGreaterThan(0);
    for (const role of Object.values(Role))
      for (const k of other) expect(scopeOf(viewer(role, 'ASH-01'), k)).toEqual({ kind: 'ALL' });
  });

  it('calls whole counts from 1 to 4 small, and nothing else', () => {
    expect([SMALL_MIN, SMALL_MAX, SMALL_RANGE]).toEqual([1, 4, '1 to 4']);
    expect([-1, 0, 1, 2, 3, 4, 5, 12].filter(isSmall)).toEqual([1, 2, 3, 4]);
    expect([1.5, NaN, Infinity].some(isSmall)).toBe(false);
  });
});

describe('provenance columns', () => {
  it('are declared once, in common/provenance.ts, for every entity that has them', () => {
    const declarations = [WithProvenance, WithTextProvenance, WithFileProvenance];
    const fromProvenance = (target: unknown) =>
      declarations.some((d) => d === target || (typeof target === 'function' && d.prototype instanceof target));
    const declared = getMetadataArgsStorage().columns.filter((c) => PROVENANCE.includes(c.propertyName));
    expect(declared.length).toBeGreaterThan(0);
    expect(
      declared
        .filter((c) => !fromProvenance(c.target))
        .map((c) => `${(c.target as { name: string }).name}.${c.propertyName}`),
    ).toEqual([]);
    // Every entity with provenance has it from there, the GIAS links included.
    type Class = abstract new (...args: never[]) => object;
    const ancestry = (e: Class): Class[] => {
      const chain: Class[] = [];
      for (let c: unknown = e; typeof c === 'function' && c !== Function.prototype; c = Object.getPrototypeOf(c))
        chain.push(c as Class);
      return chain;
    };
    const withProvenance = entities.filter((e) =>
      getMetadataArgsStorage()
        .filterColumns(ancestry(e))
        .some((c) => c.propertyName === 'sourceKind'),
    );
    expect(withProvenance.map((e) => e.name)).toContain('SchoolLinkRow');
    for (const e of withProvenance) expect(declarations.some((d) => e.prototype instanceof d)).toBe(true);
  });
});
