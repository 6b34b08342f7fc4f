import type { EntityManager } from 'typeorm';
import type { Viewer } from './auth/roles';
import { createLoaders, Loaders } from './modules/loaders';
import type { SqlTally } from './db/sql-counter';

/** Everything per request: built once by Apollo's context function; resolvers are stateless. */
export interface Context {
  viewer: Viewer;
  db: EntityManager;
  loaders: Loaders;
  requestId: string;
  sql: SqlTally;
  /** Where a write came from, for the audit log. */
  source: 'ADDIN' | 'API' | 'IMPORT';
}

export function createContext(args: {
  viewer: Viewer;
  db: EntityManager;
  requestId: string;
  sql: SqlTally;
  source?: Context['source'];
}): Context {
  return { ...args, source: args.source ?? 'API', loaders: createLoaders(args.db) };
}
