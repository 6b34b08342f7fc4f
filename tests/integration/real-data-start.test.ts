import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Decimal from 'decimal.js';
import { assertServerBuilt } from '../helpers/build';
import { LaFiles, writeLaFiles } from '../helpers/la-files';

/**
 * Issue 13's end to end: the README's "Real data quick start" run as written, command by command, in a folder of
 * its own (the repository's files linked in, the embedded database in its own .hub-data), from an empty hub to
 * every dataset an officer holds, in the public files' layouts; then GraphQL answers checked to the penny, and a
 * second GIAS month with one more conversion.
 */

const ROOT = path.resolve(__dirname, '../..');
beforeAll(assertServerBuilt);

/** The commands of the README's real-data quick start, in order, as a person would type them. */
function quickStartCommands(): string[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = /\n## Real data quick start\n([\s\S]*?)\n## /.exec(readme);
  if (!section) throw new Error('README.md has no "## Real data quick start" section');
  const block = /```bash\n([\s\S]*?)```/.exec(section[1]);
  if (!block) throw new Error('The real-data quick start has no ```bash block');
  return block[1]
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** A folder like a fresh checkout: the repository's own files linked in, no .hub-data, the officer's files in data/. */
function officerFolder(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hnh-real-'));
  for (const name of fs.readdirSync(ROOT)) {
    if (['.hub-data', '.git', 'data'].includes(name)) continue;
    fs.symlinkSync(path.join(ROOT, name), path.join(dir, name));
  }
  return dir;
}

const sh = (cwd: string, env: NodeJS.ProcessEnv, line: string) =>
  spawnSync('bash', ['-c', line], { cwd, env, encoding: 'utf8', timeout: 240_000 });

describe('real data quick start, as the README writes it', () => {
  let dir: string;
  let files: LaFiles;
  let hub: ChildProcess | null = null;
  let url = '';
  let token = '';
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    METRICS_PORT: '0',
    LOG_LEVEL: 'warn',
    DATABASE_URL: '',
    HUB_DATA_DIR: '',
    npm_config_loglevel: 'error',
  };
  delete env.HUB_DATA_DIR;
  const outputs: { line: string; out: string }[] = [];

  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = await res.json();
    expect(body.errors).toBeUndefined();
    return body.data;
  };

  /** Starts `npm start` in the background and waits for its address and the one-time bootstrap token. */
  const start = (line: string) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn('bash', ['-c', `exec ${line}`], {
        cwd: dir,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      hub = child;
      let out = '';
      let err = '';
      child.stdout!.on('data', (d) => {
        out += d;
        const lines = out.split('\n');
        const at = lines.findIndex((l) => l.includes('Finance bootstrap token'));
        const addr = /localhost:(\d+)\/graphql/.exec(out);
        if (at >= 0 && lines.length > at + 1 && addr) {
          url = `http://127.0.0.1:${addr[1]}`;
          resolve(lines[at + 1].trim());
        }
      });
      child.stderr!.on('data', (d) => (err += d));
      child.on('exit', (code) => reject(new Error(`npm start exited ${code}: ${out}\n${err}`)));
    });

  beforeAll(async () => {
    dir = officerFolder();
    files = await writeLaFiles(path.join(dir, 'data'));
    for (const line of quickStartCommands()) {
      const exp = /^export (.*)$/.exec(line);
      if (exp) {
        for (const kv of exp[1].split(/\s+/)) {
          const [k, v] = kv.split('=');
          env[k] = v;
        }
        continue;
      }
      if (/^npm (run )?start\b/.test(line)) {
        token = await start(line);
        continue;
      }
      const r = sh(dir, env, line);
      outputs.push({ line, out: `${r.stdout}${r.stderr}` });
      if (r.status !== 0) throw new Error(`\`${line}\` exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
    }
  }, 900_000);

  afterAll(async () => {
    if (hub && hub.exitCode === null) {
      const h = hub;
      await new Promise((r) => {
        h.once('exit', r);
        process.kill(-h.pid!, 'SIGTERM');
      });
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('starts empty for the configured authority and prints one Finance token, then imports every file it lists', async () => {
    expect(token).toMatch(/^\S{20,}$/);
    const me = await gql('{ me { role } }');
    expect(me.me.role).toBe('FINANCE');
    // Every import the quick start lists ran (none refused, none a dry run), the register and the links included.
    const imported = outputs.map((o) => o.line).join('\n');
    for (const kind of [
      'import:gias',
      'areas',
      'school-terms',
      'communities',
      'community-memberships',
      'apt-budgets',
      'place-numbers',
      'baselines-by-year',
      'community-pots',
      's251',
      'caseloads',
      'safety-valve-agreement',
    ])
      expect(imported).toContain(kind);
    expect(imported).not.toContain('--dry-run');
  });

  it("holds the register as GIAS gives it: the open schools, the converter pair sharing a LAESTAB, the academy in its predecessor's community", async () => {
    const open = files.county.schools.filter((s) => s.status === 'OPEN').length;
    const { schools } = await gql('{ schools(first: 1, filter: { status: [OPEN] }) { totalCount } }');
    expect(schools.totalCount).toBe(open);
    const { first, academy } = await gql(
      `query($p: Int!, $s: Int!) {
        first: school(urn: $p) { status laestab successors { urn linkType } }
        academy: school(urn: $s) { status laestab predecessors { urn linkType } community { code } }
      }`,
      { p: files.firstConversion.urn, s: files.firstConversion.successorUrn },
    );
    expect(first.status).toBe('CLOSED');
    expect(academy.status).toBe('OPEN');
    expect(academy.laestab).toBe(first.laestab);
    expect(first.successors.map((l: any) => l.urn)).toEqual([files.firstConversion.successorUrn]);
    expect(academy.predecessors.map((l: any) => l.urn)).toEqual([files.firstConversion.urn]);
    expect(academy.community?.code).toBe(files.firstConversion.communityCode);
    // The school GIAS lists under another authority, and the one proposed with no number yet, are not the LA's.
    const { moved, proposed } = await gql(
      `query($m: Int!, $p: Int!) { moved: school(urn: $m) { urn } proposed: school(urn: $p) { urn } }`,
      {
        m: files.movedOut.urn,
        p: files.proposed.urn,
      },
    );
    expect(moved).toBeNull();
    expect(proposed).toBeNull();
  });

  it("derives notional SEN from the APT's New ISB sheet to the penny", async () => {
    const fy = files.financialYear;
    const sample = files.county.schools.filter((s) => s.status === 'OPEN').slice(0, 40);
    const { schoolsByUrn } = await gql(
      `query($u: [Int!]!, $fy: String!) { schoolsByUrn(urns: $u) { urn notionalSenBudget(financialYear: $fy) { total } } }`,
      { u: sample.map((s) => s.urn), fy },
    );
    let checked = 0;
    for (const s of schoolsByUrn) {
      const want = files.county.notionalSenFactors
        .filter((f) => f.schoolUrn === s.urn && f.financialYearCode === fy && APT_COUNTED.has(f.factor))
        .reduce((a, f) => a.plus(f.senAmount), new Decimal(0));
      if (want.isZero()) continue;
      expect(s.notionalSenBudget.total).toBe(want.toFixed(2));
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
  });

  it("splits each year's baseline into funding terms by their months, the pennies adding up to the year", async () => {
    const fy = files.financialYear;
    const terms = files.county.fundingTerms.filter((t) => t.financialYearCode === fy);
    const yearOf = new Map<number, number>();
    for (const f of files.county.schoolTermFunding)
      if (terms.some((t) => t.code === f.termCode))
        yearOf.set(f.schoolUrn, (yearOf.get(f.schoolUrn) ?? 0) + Math.round(Number(f.baseline) * 100));
    const urns = [...yearOf.keys()].slice(0, 30);
    const q = terms.map((t, i) => `t${i}: funding(term: "${t.code}") { baseline }`).join(' ');
    const { schoolsByUrn } = await gql(`query($u: [Int!]!) { schoolsByUrn(urns: $u) { urn ${q} } }`, { u: urns });
    for (const s of schoolsByUrn) {
      const want = splitByMonths(
        yearOf.get(s.urn)!,
        terms.map((t) => t.months),
      );
      const got = terms.map((_, i) => Math.round(Number(s[`t${i}`].baseline) * 100));
      expect(got).toEqual(want);
      expect(got.reduce((a, b) => a + b, 0)).toBe(yearOf.get(s.urn));
    }
  });

  it('holds the pots, the block lines from S251, place numbers, caseloads and the Safety Valve agreement as the files give them', async () => {
    const pot = files.county.communityPots.find((p) => p.termCode === 'AUTUMN-2026')!;
    const special = files.county.placeNumbers.find(
      (p) => p.academicYearCode === files.academicYear && p.placeType === 'SPECIAL_PRE16',
    )!;
    const data = await gql(
      `query($c: String!, $u: Int!, $ay: String!, $fy: String!) {
        community(code: $c) { pot(term: "AUTUMN-2026") { amount } }
        school(urn: $u) { placeNumbers(academicYear: $ay) { placeType places } }
        highNeedsBlock(financialYear: $fy) { lines { lineCode budget source { kind file } } }
        caseloads(kind: EHCP_PLANS, groupBy: DISTRICT, period: "2026/27-T1") { totals { count suppressed } }
        safetyValve { agreement { code dfeContribution laContribution reportsPerYear } instalments { amount status } plan { financialYear inYearPlan } }
      }`,
      { c: pot.communityCode, u: special.schoolUrn, ay: files.academicYear, fy: files.financialYear },
    );
    expect(data.community.pot.amount).toBe(pot.amount);
    const places = data.school.placeNumbers.find((p: any) => p.placeType === 'SPECIAL_PRE16');
    expect(places.places).toBe(special.places);
    const lines = new Map(data.highNeedsBlock.lines.map((l: any) => [l.lineCode, l]));
    expect((lines.get('HOSPITAL_EDUCATION') as any).budget).toBe('2345678.90');
    expect((lines.get('HOSPITAL_EDUCATION') as any).source.file).toBe(`s251-budget-${files.financialYear}.csv`);
    expect((lines.get('ALTERNATIVE_PROVISION') as any).budget).toBe('8765432.10');
    const ehcp = files.county.caseloadCounts
      .filter((c) => c.kind === 'EHCP_PLANS' && c.periodCode === '2026/27-T1')
      .reduce((a, c) => a + c.count, 0);
    expect(data.caseloads.totals.reduce((a: number, t: any) => a + (t.count ?? 0), 0)).toBe(ehcp);
    const sv = files.county.safetyValveAgreements[0];
    expect(data.safetyValve.agreement).toMatchObject({
      code: sv.code,
      dfeContribution: sv.dfeContribution,
      laContribution: sv.laContribution,
    });
    expect(data.safetyValve.instalments).toHaveLength(files.county.safetyValveInstalments.length);
    expect(data.safetyValve.plan.map((p: any) => p.inYearPlan)).toEqual(
      files.county.safetyValvePlanYears.map((p) => p.inYearPlan),
    );
  });

  it('a month later, the next register and links: one more conversion, its academy in the same community, nothing else moved', async () => {
    const before = await gql(
      '{ schools(first: 1, filter: { status: [OPEN] }) { totalCount } communities { code memberCount } }',
    );
    const month2 = `npm run import:gias -- data/edubasealldata20261201.csv --links data/links_edubasealldata20261201.csv`;
    const r = sh(dir, env, month2);
    expect(r.status).toBe(0);
    const c = files.secondConversion;
    const after = await gql(
      `query($p: Int!, $s: Int!) {
        schools(first: 1, filter: { status: [OPEN] }) { totalCount }
        communities { code memberCount }
        old: school(urn: $p) { status closeDate }
        academy: school(urn: $s) { status predecessors { urn } community(asOf: "${c.date}") { code } }
      }`,
      { p: c.urn, s: c.successorUrn },
    );
    expect(after.schools.totalCount).toBe(before.schools.totalCount);
    expect(after.old.status).toBe('CLOSED');
    expect(after.academy.status).toBe('OPEN');
    expect(after.academy.predecessors.map((l: any) => l.urn)).toEqual([c.urn]);
    expect(after.academy.community?.code).toBe(c.communityCode);
    expect(after.communities).toEqual(before.communities);
    // The academy is a new URN with no figures of its own: the data status says what is missing for it.
    const { dataStatus } = await gql('{ dataStatus(term: "SPRING-2027") { missing } }');
    expect(dataStatus.missing.join('\n')).toMatch(/baseline/i);
  });
});

/** The notional SEN factors the quick start's APT sheet carries (lump sum, EAL and the like are not counted). */
const APT_COUNTED = new Set([
  'BASIC_ENTITLEMENT',
  'DEPRIVATION',
  'FSM_EVER6',
  'LOW_PRIOR_ATTAINMENT',
  'MOBILITY',
  'MINIMUM_PER_PUPIL_MFG',
]);

/** Pence split by months: each floored, the pennies left over one each to the largest remainders (ties: earlier). */
function splitByMonths(pence: number, months: number[]): number[] {
  const total = months.reduce((a, b) => a + b, 0);
  const exact = months.map((m) => (pence * m) / total);
  const out = exact.map(Math.floor);
  let left = pence - out.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) if (left-- > 0) out[i]++;
  return out;
}
