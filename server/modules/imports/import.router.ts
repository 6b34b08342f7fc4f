import { PassThrough, Readable } from 'node:stream';
import express, { Request, Response } from 'express';
import type { DataSource } from 'typeorm';
import type { Viewer } from '../../auth/roles';
import { authorize, ACTIONS } from '../../auth/policy';
import { BadInput } from '../../errors';
import { localAuthority } from '../../common/local-authority';
import { handler, RestDeps } from '../exports/http';
import { ParamSpec, parseParams } from '../exports/params';
import { XLSX_TYPE } from '../exports/export.router';
import { importGias } from './gias';
import { importGiasLinks } from './gias-links';
import { importFile } from './import.service';
import { IMPORT_KINDS, requireKind } from './registry';
import { templateCsv, templateXlsx } from './templates';
import { TextEncoding, UPLOAD_LIMITS } from './upload';

/** The limits live with the upload reader (upload.ts); named here too for the callers of the routes. */
export { UPLOAD_LIMITS };

const BOOL = ['TRUE', 'FALSE'] as const;
const DRY_RUN: ParamSpec = {
  name: 'dryRun',
  kind: 'enum',
  values: BOOL,
  description: 'TRUE to report without writing.',
};
const ENCODING: ParamSpec = {
  name: 'encoding',
  kind: 'enum',
  values: ['WIN1252', 'UTF8'],
  description: 'Force the text encoding (default: Windows-1252, or UTF-8 after a BOM).',
};
const encodingOf = (p: Record<string, unknown>) =>
  p.encoding ? ((p.encoding as string).toLowerCase() as TextEncoding) : undefined;

/**
 * POST /import/gias?la=<HUB_LA> (the GIAS CSV as the body, streamed), POST /import/gias-links (GIAS's links file, after
 * the register), POST /import/<kind> (a CSV or XLSX template
 * as the body), GET /import/templates/<kind>.xlsx|.csv. Finance only, except the templates.
 */
export function createImportRouter(deps: RestDeps & { dataSource: DataSource }): express.Router {
  const router = express.Router();

  const finance = async (req: Request): Promise<Viewer> => {
    const viewer = await deps.viewerFor(req.headers.authorization, req);
    authorize(viewer, ACTIONS.import, 'import');
    return viewer;
  };
  const query = (req: Request) => new URL(req.originalUrl, 'http://hub').searchParams;
  const fileName = (req: Request, fallback: string) => String(req.headers['x-file-name'] ?? fallback).slice(0, 120);
  /** Who runs an import through the API, on what file, and whether for real. */
  const run = (req: Request, viewer: Viewer, dryRun: unknown, fallbackName: string) => ({
    viewer,
    source: 'API' as const,
    fileName: fileName(req, fallbackName),
    dryRun: dryRun === 'TRUE',
  });

  router.get(
    '/templates/:file',
    handler(deps, async (req, res) => {
      await deps.viewerFor(req.headers.authorization, req);
      const m = /^([a-z-]+)\.(csv|xlsx)$/.exec(String(req.params.file));
      if (!m)
        throw new BadInput(
          `Ask for /import/templates/<kind>.xlsx or .csv. Kinds: ${IMPORT_KINDS.map((k) => k.kind).join(', ')}.`,
          'file',
        );
      const kind = requireKind(m[1]);
      res.setHeader('content-disposition', `attachment; filename="${kind.kind}-template.${m[2]}"`);
      if (m[2] === 'csv') res.type('text/csv; charset=utf-8').send(templateCsv(kind));
      else res.type(XLSX_TYPE).send(await templateXlsx(kind));
    }),
  );

  router.post(
    '/gias',
    handler(deps, async (req, res) => {
      const viewer = await finance(req);
      const p = parseParams(
        [
          { name: 'la', kind: 'int', description: "DfE LA code (default: the hub's, HUB_LA)." },
          DRY_RUN,
          {
            name: 'allowMassClose',
            kind: 'enum',
            values: BOOL,
            description: 'TRUE to allow closing more than a fifth of the open schools.',
          },
          ENCODING,
        ],
        query(req),
        'GIAS import',
      );
      // A rejected file stops the read: through a PassThrough, so that stopping does not destroy the socket the 400 goes back on.
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > UPLOAD_LIMITS.giasBytes)
        throw tooLarge(UPLOAD_LIMITS.giasBytes, 'the national GIAS file is about 60 MB');
      const body = new PassThrough();
      let seen = 0;
      req.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > UPLOAD_LIMITS.giasBytes) {
          req.unpipe(body);
          body.destroy(tooLarge(UPLOAD_LIMITS.giasBytes, 'the national GIAS file is about 60 MB'));
        }
      });
      req.pipe(body);
      const report = await importGias(deps.dataSource, body, {
        ...run(req, viewer, p.dryRun, 'upload.csv'),
        la: (p.la as number | null) ?? localAuthority().code,
        maxCloseShare: p.allowMassClose === 'TRUE' ? 1 : undefined,
        encoding: encodingOf(p),
      });
      sendReport(res, report);
    }),
  );

  router.post(
    '/gias-links',
    handler(deps, async (req, res) => {
      const viewer = await finance(req);
      const p = parseParams(
        [
          DRY_RUN,
          {
            name: 'followCommunity',
            kind: 'enum',
            values: BOOL,
            description:
              "FALSE: a converted school's successor does not join its predecessor's community (default TRUE).",
          },
          {
            name: 'noFollow',
            kind: 'intList',
            description: "Successor URNs that do not join their predecessor's community.",
          },
          ENCODING,
        ],
        query(req),
        'GIAS links import',
      );
      const body = await readBody(req, UPLOAD_LIMITS.giasLinksBytes, 'the national GIAS links file is a few MB');
      const report = await importGiasLinks(deps.dataSource, Readable.from([body]), {
        ...run(req, viewer, p.dryRun, 'links.csv'),
        followCommunity: p.followCommunity !== 'FALSE',
        noFollow: (p.noFollow as number[] | null) ?? [],
        encoding: encodingOf(p),
      });
      sendReport(res, report);
    }),
  );

  router.post(
    '/:kind',
    handler(deps, async (req, res) => {
      const viewer = await finance(req);
      const kind = requireKind(String(req.params.kind));
      const { dryRun, ...options } = parseParams([DRY_RUN, ...(kind.options ?? [])], query(req), `${kind.kind} import`);
      const body = await readBody(req, kind.maxBytes ?? UPLOAD_LIMITS.financeBytes);
      const report = await importFile(deps.dataSource, kind.kind, body, {
        ...run(req, viewer, dryRun, `upload-${kind.kind}`),
        options: options as Record<string, string | number | null>,
      });
      sendReport(res, report);
    }),
  );
  return router;
}

/** 200 with the report when the file was accepted (written, dry run or no change); 400 with it when any row was rejected. */
function sendReport(res: Response, report: { errorCount: number; message: string; errors: unknown[] }): void {
  if (report.errorCount > 0) {
    res.status(400).json({
      errors: [{ message: report.message, extensions: { code: 'BAD_USER_INPUT', rowErrors: report.errors } }],
      report,
    });
    return;
  }
  res.json({ report });
}

function tooLarge(limit: number, why: string) {
  return new BadInput(
    `The file is larger than ${limit / 1024 / 1024} MB (${why}); split it or check the file.`,
    'file',
    { maxBytes: limit, http: { status: 413 } },
  );
}

async function readBody(req: Request, limit: number, why = 'a finance template is far smaller'): Promise<Buffer> {
  if (Number(req.headers['content-length'] ?? 0) > limit) throw tooLarge(limit, why);
  // Read by events, not `for await`: leaving that loop destroys the request and its socket before the 413 is sent.
  // Past the limit the rest is discarded as it arrives (the request deadline bounds how long), then the connection closes.
  // With a declared length the body is read into one buffer of that size: the chunks and their concatenation are
  // never held together (a 20 MB file would be 40 MB so).
  const declared = Number(req.headers['content-length']);
  const into = Number.isSafeInteger(declared) && declared > 0 ? Buffer.allocUnsafe(declared) : null;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      if (size + chunk.length > limit) {
        refused = true;
        chunks.length = 0;
        reject(tooLarge(limit, why));
      } else if (into && size < into.length) {
        const fits = chunk.copy(into, size);
        if (fits < chunk.length) chunks.push(chunk.subarray(fits));
      } else chunks.push(chunk);
      size += chunk.length;
    });
    req.on('end', () => {
      if (refused) return;
      if (!into) return resolve(Buffer.concat(chunks));
      // (Node's parser holds a body to its declared length; were it longer, the excess follows the declared part.)
      resolve(chunks.length ? Buffer.concat([into, ...chunks]) : into.subarray(0, size));
    });
    req.on('error', reject);
  });
}
