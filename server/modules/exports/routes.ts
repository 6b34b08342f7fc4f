import type express from 'express';
import type { DataSource } from 'typeorm';
import { createExportRouter } from './export.router';
import type { RestDeps } from './http';
import { safetyValveReportExport } from '../safety-valve/safety-valve.xlsx';
import { createImportRouter } from '../imports/import.router';

/** Mounts the file endpoints (exports, imports, templates) on the hub's app: one call from server.ts. */
export function mountFileRoutes(app: express.Express, deps: RestDeps & { dataSource: DataSource }): void {
  app.use('/export', createExportRouter({ ...deps, reports: [safetyValveReportExport] }));
  app.use('/import', createImportRouter(deps));
}
