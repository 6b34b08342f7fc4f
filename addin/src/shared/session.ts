/**
 * State shared by the task pane and the custom functions. They run in one shared runtime but are separate
 * bundles, so the state hangs off globalThis rather than a module variable. The token lives here (memory)
 * and optionally in OfficeRuntime.storage, never in the workbook.
 */
import type { Batcher } from '../functions/batcher';
import type { HubClient } from '../core/graphql';
import type { Me } from '../core/types';

export interface Session {
  url: string;
  token?: string;
  /** How the token was got: typed in (a hub token) or from Office single sign-on (a Microsoft Entra ID JWT). */
  via?: 'token' | 'microsoft';
  me?: Me;
  client?: HubClient;
  batcher?: Batcher;
  timeoutMs: number;
}

export function session(): Session {
  const g = globalThis as { __HNH_SESSION__?: Session };
  if (!g.__HNH_SESSION__) g.__HNH_SESSION__ = { url: '', timeoutMs: 30_000 };
  return g.__HNH_SESSION__;
}
