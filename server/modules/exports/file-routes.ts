import type express from 'express';
import type { DataSource } from 'typeorm';
import type { RestDeps } from './http';
import type { RunGraphQL } from './export-query';

type Routers = { exports: express.Router; imports: express.Router };

/**
 * Mounts the file endpoints (exports, imports, templates) on the hub's app: one call from server.ts. The
 * routers and what they need (exceljs, jszip, csv-parse: about a third of the hub's start-up) are loaded on the
 * first file request, not at start, since most hub processes answer GraphQL long before anyone asks for a file.
 */
export function mountFileRoutes(
  app: express.Express,
  deps: RestDeps & { dataSource: DataSource; graphql: RunGraphQL },
): void {
  let routers: Promise<Routers> | null = null;
  const load = async (): Promise<Routers> => {
    const [{ createExportRouter }, { safetyValveReportExport }, { createImportRouter }] = await Promise.all([
      import('./export.router'),
      import('../safety-valve/safety-valve.xlsx'),
      import('../imports/import.router'),
    ]);
    return {
      exports: createExportRouter({ ...deps, reports: [safetyValveReportExport] }),
      imports: createImportRouter(deps),
    };
  };
  const lazy = (pick: keyof Routers): express.RequestHandler & { router(): Promise<express.Router> } =>
    Object.assign(
      (req: express.Request, res: express.Response, next: express.NextFunction) => {
        (routers ??= load()).then((r) => r[pick](req, res, next), next);
      },
      // The router behind the lazy door, for whoever lists the hub's routes (the role-matrix test).
      { router: () => (routers ??= load()).then((r) => r[pick]) },
    );
  app.use('/export', lazy('exports'));
  app.use('/import', lazy('imports'));
}
