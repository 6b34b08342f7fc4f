import express, { Request, Response } from 'express';
import type { DataSource } from 'typeorm';
import { createContext, Context } from '../../context';
import { BadInput } from '../../errors';
import type { SqlTally } from '../../db/sql-counter';
import { DATASET_BY_NAME, DATASETS, Dataset } from './export-datasets';
import { addAboutSheet, addDataSheet, toCsv } from './export-format';
import { parseParams } from './params';
import { handler, RestDeps, requestIdOf } from './http';
import { Paging, runExport, RunGraphQL } from './export-query';
import { excel } from '../../common/excel';

/** Report-shaped exports (one layout, XLSX only) registered by other modules, e.g. the Safety Valve return. */
export interface XlsxReport {
  name: string;
  description: string;
  build(ctx: Context, query: URLSearchParams): Promise<{ buffer: Buffer; filename: string }>;
}

const FILE_RE = /^([a-z][a-z0-9-]*)\.([a-z0-9]+)$/i;

function filenameFor(d: Dataset, p: Record<string, unknown>, ext: string): string {
  const keyParts = ['term', 'financialYear', 'kind', 'period', 'communityCode', 'districtCode']
    .map((k) => p[k])
    .filter((v): v is string => typeof v === 'string')
    .map((v) => v.replace(/[^A-Za-z0-9-]+/g, '-'));
  return [d.name, ...keyParts].join('_') + '.' + ext;
}

/**
 * GET /export/<dataset>.csv|.xlsx?<filters>: the GraphQL datasets for Power Query's "From Web" (with an
 * Authorization header) and for people without the add-in. GET /export lists the datasets and filters.
 */
export function createExportRouter(
  deps: RestDeps & { dataSource: DataSource; graphql: RunGraphQL; reports?: XlsxReport[] },
): express.Router {
  const router = express.Router();
  const reports = new Map((deps.reports ?? []).map((r) => [r.name, r]));

  async function contextFor(req: Request): Promise<Context> {
    const viewer = await deps.viewerFor(req.headers.authorization, req);
    const tally: SqlTally = (req as Request & { hub?: { tally: SqlTally } }).hub?.tally ?? { statements: 0 };
    return createContext({
      viewer,
      db: deps.dataSource.manager,
      requestId: requestIdOf(req),
      sql: tally,
      source: 'API',
    });
  }

  router.get(
    '/',
    handler(deps, async (req, res) => {
      await contextFor(req);
      res.json({
        datasets: DATASETS.map((d) => ({
          name: d.name,
          title: d.title,
          description: d.description,
          formats: ['csv', 'xlsx'],
          // The document the export runs, for whoever wants the same figures from /graphql.
          graphql: d.query.document,
          filters: d.params.map((p) => ({
            name: p.name,
            required: Boolean(p.required),
            values: p.values ?? null,
            description: p.description,
          })),
        })),
        reports: [...reports.values()].map((r) => ({ name: r.name, description: r.description, formats: ['xlsx'] })),
      });
    }),
  );

  router.get(
    '/:file',
    handler(deps, async (req: Request, res: Response) => {
      const ctx = await contextFor(req);
      const file = String(req.params.file);
      const m = FILE_RE.exec(file);
      const known = [...DATASETS.map((d) => d.name), ...reports.keys()].join(', ');
      if (!m)
        throw new BadInput(
          `"${file}" is not an export: ask for /export/<dataset>.csv or .xlsx. Datasets: ${known}.`,
          'dataset',
        );
      const [, name, ext] = m;
      const format = ext.toLowerCase();
      const query = new URL(req.originalUrl, 'http://hub').searchParams;
      const report = reports.get(name);
      if (report) {
        if (format !== 'xlsx')
          throw new BadInput(`The ${name} report is laid out for Excel: ask for /export/${name}.xlsx.`, 'format');
        const { buffer, filename } = await report.build(ctx, query);
        sendFile(res, buffer, filename, XLSX_TYPE);
        return;
      }
      const d = DATASET_BY_NAME.get(name);
      if (!d)
        throw new BadInput(`Unknown dataset "${name}". Datasets: ${known}.`, 'dataset', {
          validValues: [...DATASET_BY_NAME.keys(), ...reports.keys()],
        });
      if (format !== 'csv' && format !== 'xlsx')
        throw new BadInput(`Unknown format ".${ext}": ask for .csv or .xlsx.`, 'format');
      const params = parseParams(d.params, query, d.name);
      // Every row before any byte: a GraphQL error on any page (a partial result too) refuses the whole file.
      const { rows, variables } = await runExport(d.query, d.variables(params), ctx, deps.graphql);
      const filename = filenameFor(d, params, format);
      if (format === 'csv') {
        sendFile(res, Buffer.from(toCsv(d.query.columns, rows), 'utf8'), filename, 'text/csv; charset=utf-8');
        return;
      }
      const wb = new (excel().Workbook)();
      wb.creator = 'High Needs Hub';
      wb.created = new Date();
      addDataSheet(wb, 'Data', d.query.columns, rows);
      addAboutSheet(
        wb,
        {
          title: d.title,
          description: d.description,
          source: `High Needs Hub, ${req.protocol}://${req.get('host')}${req.originalUrl}: the GraphQL query below, run with your token.`,
          filters: d.params
            .filter((p) => params[p.name] !== null)
            .map((p) => [p.name, [params[p.name]].flat().join(', ')]),
          generatedFor: `${ctx.viewer.name} (${ctx.viewer.role}${ctx.viewer.communityCode ? ', ' + ctx.viewer.communityCode : ''})`,
          graphql: { document: d.query.document, variables: JSON.stringify(variables) },
          notes: [
            // Only where there is money: the caseload counts have none.
            ...(d.query.columns.some((c) => c.type === 'money')
              ? [
                  'Money is in pounds sterling, exact to the penny in the hub; the CSV export carries the exact decimal text.',
                ]
              : []),
            ...(d.notes?.(ctx, params) ?? []),
            ...(d.query.paging ? [pagingNote(d.query.paging)] : []),
          ],
        },
        d.query.columns,
        rows.length,
      );
      sendFile(res, Buffer.from(await wb.xlsx.writeBuffer()), filename, XLSX_TYPE);
    }),
  );
  return router;
}

function pagingNote(p: Paging): string {
  const next = p.by === 'cursor' ? "after = the previous page's endCursor" : 'offset moved on by a page';
  return `The query ran page by page: ${p.size} rows a page (${next}), the variables below being the first page's.`;
}

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

function sendFile(res: Response, body: Buffer, filename: string, type: string): void {
  res.setHeader('content-type', type);
  res.setHeader('content-disposition', `attachment; filename="${filename}"`);
  res.setHeader('cache-control', 'no-store');
  res.send(body);
}
