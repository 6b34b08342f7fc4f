import fs from 'node:fs';
import type { Readable } from 'node:stream';
import type { DataSource } from 'typeorm';
import { BadInput } from '../../errors';
import type { Viewer } from '../../auth/roles';
import { createToken, revokeToken } from '../../auth/tokens';
import { createDemoTokens, hasData, seedDemo } from '../../bootstrap';
import { importFile } from '../../modules/imports/import.service';
import { requireKind } from '../../modules/imports/registry';
import { parseParams } from '../../modules/exports/params';
import { importGias } from '../../modules/imports/gias';
import { FileRejected, formatRowError } from '../../modules/imports/report';
import { giasLinksReportLines, giasReportLines } from '../../modules/imports/command-line';
import { loadConfig } from '../../config';
import { localAuthority } from '../../common/local-authority';
import { bootstrapLines, bootstrapRealHub, readHubInstance } from '../../modules/instance/instance';
import { HubMode } from '../../modules/instance/hub-instance.entity';
import { generatePeriods } from '../../modules/period/period.calendar';
import { importGiasLinks } from '../../modules/imports/gias-links';
import { migrationsPending } from '../../db/migrations';

/**
 * The command-line tasks, written once and run either in the CLI process (PostgreSQL, or an embedded folder no
 * hub holds) or inside the running hub that owns the embedded folder (POST /local/run/<command>). Either way
 * they print the same lines and exit with the same code.
 */
export type Args = Record<string, string | boolean | undefined>;

export interface CommandContext {
  dataSource: DataSource;
  viewer: Viewer;
  /** The file the command reads (imports), streamed from the CLI when it runs in the hub. */
  input: () => Readable;
  /** Progress of a GIAS read, in the CLI process only. */
  onProgress?: (bytes: number, rows: number) => void;
}

export interface CommandOutput {
  out: string[];
  err: string[];
  exitCode: number;
}

export type Command = (ctx: CommandContext, args: Args) => Promise<CommandOutput>;

const ok = (out: string[], err: string[] = []): CommandOutput => ({ out, err, exitCode: 0 });
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

function rejected(err: FileRejected): CommandOutput {
  return {
    out: [],
    err: [`Nothing imported. ${err.message}`, ...err.errors.map((e) => `  ${formatRowError(e)}`)],
    exitCode: 1,
  };
}

export const COMMANDS: Record<string, Command> = {
  async 'token:create'({ dataSource }, args) {
    const t = await createToken(dataSource.manager, {
      role: str(args.role) ?? '',
      name: str(args.name) ?? '',
      communityCode: str(args.community),
      client: str(args.client),
    });
    return ok(
      [t.token],
      [
        `Created ${t.role} ${t.client === 'addin' ? 'add-in ' : ''}token "${t.name}"${t.communityCode ? ` for community ${t.communityCode}` : ''} (id ${t.id}). It is shown once: store it now.`,
      ],
    );
  },
  async 'token:revoke'({ dataSource }, args) {
    const n = await revokeToken(dataSource.manager, str(args.id) ?? '');
    if (n === 0) throw new BadInput(`No active token has id or prefix "${args.id}".`);
    return ok([`Revoked ${n} token(s).`]);
  },
  async 'token:list'({ dataSource }) {
    const rows = await dataSource.query(
      `SELECT id, prefix, name, role, community_code, client, created_at, revoked_at FROM api_token ORDER BY created_at`,
    );
    return ok(
      rows.map(
        (r: Record<string, string | null>) =>
          `${r.id}  ${r.prefix}…  ${r.role!.padEnd(8)} ${(r.community_code ?? '').padEnd(7)} ${r.client!.padEnd(5)} ${r.revoked_at ? 'REVOKED ' : 'active  '} ${r.name}`,
      ),
    );
  },
  async 'db:migrate'({ dataSource }) {
    const ran = await dataSource.runMigrations({ transaction: 'each' });
    const out = [
      ran.length
        ? `Applied ${ran.length} migration(s): ${ran.map((m) => m.name).join(', ')}`
        : 'Database is up to date.',
    ];
    // PostgreSQL (and an embedded folder with HUB_DEMO=0): an empty database is a real hub, with one Finance token.
    const config = loadConfig();
    if (config.databaseUrl || !config.seedDemo) {
      const instance = await readHubInstance(dataSource);
      const empty = !instance && !(await hasData(dataSource));
      if (empty || instance?.mode === HubMode.REAL) {
        const { token } = await bootstrapRealHub(dataSource, config.localAuthority);
        if (token)
          out.push(
            `Empty hub for LA ${config.localAuthority.code} ${config.localAuthority.name}.`,
            ...bootstrapLines(token),
          );
      }
    }
    return ok(out);
  },
  async 'db:seed'({ dataSource }) {
    if (await migrationsPending(dataSource))
      throw new BadInput('The database has pending migrations: run `npm run db:migrate` first.');
    if (await hasData(dataSource))
      return ok(['The database already has schools: demo data not loaded (it only goes into an empty database).']);
    const { schools, ms } = await seedDemo(dataSource);
    const tokens = await createDemoTokens(dataSource);
    return ok([
      `Loaded demo data (${schools} schools) in ${ms} ms. Demo tokens:`,
      ...(['FINANCE', 'SUBGROUP', 'CHAIR', 'ANALYST'] as const).map((r) => `  ${r.padEnd(8)} ${tokens[r]}`),
    ]);
  },
  async periods({ dataSource, viewer }, args) {
    const r = await generatePeriods(dataSource, str(args.first) ?? '', str(args.last) ?? '', {
      viewer,
      source: 'IMPORT',
    });
    return ok([r.message]);
  },
  async import({ dataSource, viewer, input }, args) {
    try {
      const chunks: Buffer[] = [];
      for await (const c of input()) chunks.push(c as Buffer);
      const kind = requireKind(str(args.kind) ?? '');
      // The kind's options (--financial-year 2025-26) are read by the same rules as POST /import/<kind>'s query.
      const given = JSON.parse(str(args.options) ?? '{}') as Record<string, string>;
      const options = parseParams(kind.options ?? [], new URLSearchParams(given), `${kind.kind} import`);
      const r = await importFile(dataSource, kind.kind, Buffer.concat(chunks), {
        viewer,
        source: 'IMPORT',
        fileName: str(args.fileName) ?? 'file',
        dryRun: args['dry-run'] === true,
        options: options as Record<string, string | number | null>,
      });
      const out = [
        r.message,
        `  ${r.rows} rows (${r.format}): created ${r.created}, updated ${r.updated}, unchanged ${r.unchanged}, rejected ${r.rejected}`,
      ];
      for (const n of r.notes.slice(0, 200)) out.push(`  ${n}`);
      if (r.notes.length > 200) out.push(`  … and ${r.notes.length - 200} more`);
      if (r.ignoredColumns.length) out.push(`  columns ignored (not in the template): ${r.ignoredColumns.join(', ')}`);
      if (r.details && kind.detailLines) out.push(...kind.detailLines(r.details));
      for (const e of r.errors) out.push(`  ${formatRowError(e)}`);
      if (r.errorCount > r.errors.length) out.push(`  … and ${r.errorCount - r.errors.length} more problems`);
      return { out, err: [], exitCode: r.errorCount > 0 ? 1 : 0 };
    } catch (err) {
      if (err instanceof FileRejected) return rejected(err);
      throw err;
    }
  },
  async 'import:gias'({ dataSource, viewer, input, onProgress }, args) {
    const la = Number(args.la ?? localAuthority().code);
    if (!Number.isInteger(la) || la < 100 || la > 999)
      throw new BadInput(
        `--la must be a 3-digit DfE LA code (this hub's is ${localAuthority().code}); got ${args.la}.`,
      );
    if (args.encoding && args.encoding !== 'win1252' && args.encoding !== 'utf8')
      throw new BadInput('--encoding is win1252 or utf8.');
    try {
      const report = await importGias(dataSource, input(), {
        la,
        viewer,
        source: 'IMPORT',
        fileName: str(args.fileName) ?? 'file',
        dryRun: args['dry-run'] === true,
        encoding: args.encoding as 'win1252' | 'utf8' | undefined,
        maxCloseShare: args['allow-mass-close'] === true ? 1 : undefined,
        onProgress,
      });
      return { out: giasReportLines(report), err: [], exitCode: report.errorCount > 0 ? 1 : 0 };
    } catch (err) {
      if (err instanceof FileRejected) return rejected(err);
      throw err;
    }
  },
  async 'import:gias-links'({ dataSource, viewer, input, onProgress }, args) {
    if (args.encoding && args.encoding !== 'win1252' && args.encoding !== 'utf8')
      throw new BadInput('--encoding is win1252 or utf8.');
    const noFollow = (str(args['no-follow']) ?? '')
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean);
    const bad = noFollow.find((u) => !/^\d{6}$/.test(u));
    if (bad) throw new BadInput(`--no-follow takes six-digit successor URNs separated by commas; got "${bad}".`);
    try {
      const report = await importGiasLinks(dataSource, input(), {
        viewer,
        source: 'IMPORT',
        fileName: str(args.fileName) ?? 'file',
        dryRun: args['dry-run'] === true,
        encoding: args.encoding as 'win1252' | 'utf8' | undefined,
        followCommunity: args['no-follow-community'] !== true,
        noFollow: noFollow.map(Number),
        onProgress,
      });
      return { out: giasLinksReportLines(report), err: [], exitCode: report.errorCount > 0 ? 1 : 0 };
    } catch (err) {
      if (err instanceof FileRejected) return rejected(err);
      throw err;
    }
  },
};

/** Opens a file for a command, refusing one that does not exist with one line. */
export function fileInput(file: string | undefined, usage: string): () => Readable {
  if (!file) throw new BadInput(usage);
  if (!fs.existsSync(file)) throw new BadInput(`No such file: ${file}`);
  return () => fs.createReadStream(file, { highWaterMark: 1 << 20 });
}
