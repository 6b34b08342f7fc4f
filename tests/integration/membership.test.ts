import { startTestHub, TestHub } from '../helpers/hub';
import { loadFundingInputs } from '../../server/modules/funding/funding-inputs';

// One rule for membership on a date (server/modules/community/membership.ts). Here a school is given a second,
// overlapping membership that started later: on dates both are in force, the later one is the school's
// community and the earlier one does not count anywhere, on either read path, in the model or in the
// allocation checks.
let t: TestHub;
let r: TestHub;
let urn: number;
let first: string;
let second: string;
const ON = '2025-10-01';
const OVERLAP_FROM = '2025-09-01';

beforeAll(async () => {
  t = await startTestHub();
  r = await startTestHub({ db: t.db, compiledReads: false });
  const db = t.db.dataSource;
  // A primary school that never moves and chairs nothing, and another community of its district.
  [{ urn, code: first }] = await db.query(
    `SELECT m.school_urn AS urn, m.community_code AS code FROM community_membership m JOIN school s ON s.urn = m.school_urn
      WHERE s.phase = 'PRIMARY' AND m.effective_to IS NULL AND m.effective_from = '2025-04-01'
        AND NOT EXISTS (SELECT 1 FROM community WHERE chair_school_urn = s.urn)
      ORDER BY m.school_urn LIMIT 1`,
  );
  [{ code: second }] = await db.query(
    `SELECT c.code FROM community c JOIN community f ON f.code = $1 WHERE c.primary_district_code = f.primary_district_code AND c.code <> f.code ORDER BY c.code LIMIT 1`,
    [first],
  );
  await db.query(
    `INSERT INTO community_membership (school_urn, community_code, effective_from, effective_to) VALUES ($1, $2, $3, NULL)`,
    [urn, second, OVERLAP_FROM],
  );
});
afterAll(async () => {
  await r?.hub.stop();
  await t?.stop();
});

const both = () =>
  [
    ['compiled', t],
    ['resolvers', r],
  ] as const;

describe('membership on a date when two memberships overlap', () => {
  it('gives the school the community it joined last, on both read paths', async () => {
    for (const [path, hub] of both()) {
      const q = `{ school(urn: ${urn}) { before: community(asOf: "2025-06-01") { code } on: community(asOf: "${ON}") { code } } }`;
      const res = await hub.gql(q);
      expect([path, res.body.errors]).toEqual([path, undefined]);
      expect([path, res.body.data.school]).toEqual([path, { before: { code: first }, on: { code: second } }]);
    }
  });

  it('counts the school as a member of that community only: members, member count and the community filter', async () => {
    for (const [path, hub] of both()) {
      const q = `{
        a: community(code: "${first}") { memberCount(asOf: "${ON}") schools(asOf: "${ON}") { urn } }
        b: community(code: "${second}") { memberCount(asOf: "${ON}") schools(asOf: "${ON}") { urn } }
        inA: schools(first: 100, filter: { communityCode: "${first}", asOf: "${ON}" }) { totalCount nodes { urn } }
        inB: schools(first: 100, filter: { communityCode: "${second}", asOf: "${ON}" }) { totalCount nodes { urn } }
      }`;
      const { data, errors } = (await hub.gql(q)).body;
      expect([path, errors]).toEqual([path, undefined]);
      const urns = (list: { urn: number }[]) => list.map((s) => s.urn);
      expect([path, urns(data.a.schools).includes(urn), urns(data.b.schools).includes(urn)]).toEqual([
        path,
        false,
        true,
      ]);
      expect([path, urns(data.inA.nodes).includes(urn), urns(data.inB.nodes).includes(urn)]).toEqual([
        path,
        false,
        true,
      ]);
      expect([path, data.a.memberCount, data.b.memberCount]).toEqual([
        path,
        data.a.schools.length,
        data.b.schools.length,
      ]);
      expect([path, data.inA.totalCount, data.inB.totalCount]).toEqual([
        path,
        data.a.schools.length,
        data.b.schools.length,
      ]);
    }
  });

  it('puts the school in one community in the funding model', async () => {
    const inputs = await loadFundingInputs(t.db.dataSource.manager);
    expect(inputs.communityOf(urn, ON)).toBe(second);
    const members = inputs.membersOn(ON);
    expect(members.get(first)).not.toContain(urn);
    expect(members.get(second)).toContain(urn);
    const all = [...members.values()].flat();
    expect(all.length).toBe(new Set(all).size);
  });

  it('refuses an allocation to the school from the community it no longer counts in (NOT_MEMBER)', async () => {
    const [term] = await t.db.dataSource.query(
      `SELECT t.code FROM funding_term t JOIN community_pot p ON p.term_code = t.code AND p.community_code = $1
        WHERE NOT t.closed AND t.start_date >= $2 ORDER BY t.start_date LIMIT 1`,
      [first, OVERLAP_FROM],
    );
    const submit = (communityCode: string) =>
      t.gql(
        `mutation($input: SubmitAllocationsInput!) { submitAllocations(input: $input) { applied results { userErrors { code field } } } }`,
        {
          input: {
            idempotencyKey: `membership-${communityCode}`,
            dryRun: true,
            decisionReference: 'T-1',
            reason: 'test',
            rows: [
              {
                schoolUrn: urn,
                communityCode,
                term: term.code,
                amount: '100.00',
                purpose: 'Membership test',
                status: 'PROPOSED',
              },
            ],
          },
        },
      );
    const refused = (await submit(first)).body;
    expect(refused.errors).toBeUndefined();
    expect(refused.data.submitAllocations.results[0].userErrors.map((e: { code: string }) => e.code)).toEqual([
      'NOT_MEMBER',
    ]);
    const accepted = (await submit(second)).body;
    expect(accepted.data.submitAllocations.results[0].userErrors).toEqual([]);
  });
});
