import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { createToken } from './auth/tokens';
import { Role } from './auth/roles';
import { generateDemoData } from './seed/generate';
import { loadDemoData } from './seed/load';
import { DEFAULT_MODEL_PARAMETERS } from './modules/funding/model';
import { markDemo } from './modules/instance/instance';
import { LA_CODE, LA_NAME } from './seed/kent';

export interface DemoTokens {
  FINANCE: string;
  SUBGROUP: string;
  CHAIR: string;
  ANALYST: string;
  chairCommunity: string;
}

export async function hasData(ds: DataSource): Promise<boolean> {
  const [row] = await ds.query('SELECT EXISTS (SELECT 1 FROM school) AS present');
  return row.present;
}

/**
 * Loads the deterministic demo data in one transaction and marks the database DEMO (imports are then
 * refused). `asRealData` is for test fixtures only: the same data, marked REAL, so tests can import over it.
 */
export async function seedDemo(
  ds: DataSource,
  opts: { asRealData?: boolean } = {},
): Promise<{ schools: number; ms: number }> {
  const started = Date.now();
  const data = generateDemoData();
  await ds.transaction(async (tx) => {
    if (opts.asRealData)
      await tx.query(
        `INSERT INTO hub_instance (id, mode, la_code, la_name) VALUES (true, 'REAL', $1, $2) ON CONFLICT (id) DO UPDATE SET mode = 'REAL'`,
        [LA_CODE, LA_NAME],
      );
    else await markDemo(tx, { code: LA_CODE, name: LA_NAME });
    await loadDemoData(tx, data);
    // The parameters the demo figures were computed with are version 1 of record.
    await tx.query(
      `INSERT INTO model_parameter_set (effective_from, author, note, parameters) VALUES ('2025-04-01', 'demo data', $1, $2)`,
      [
        `${LA_NAME} 2024-25 notional SEN formula; 75% protection Summer 2025 to Summer 2026; banding from September 2026.`,
        JSON.stringify(DEFAULT_MODEL_PARAMETERS),
      ],
    );
  });
  return { schools: data.schools.length, ms: Date.now() - started };
}

/** One token per role; the Chair's is scoped to the first community. */
export async function createDemoTokens(ds: DataSource): Promise<DemoTokens> {
  const [first] = await ds.query('SELECT code, name FROM community ORDER BY code LIMIT 1');
  const make = (role: Role, name: string, communityCode?: string) =>
    createToken(ds.manager, { role, name, communityCode }).then((t) => t.token);
  return {
    FINANCE: await make(Role.FINANCE, 'Demo finance officer'),
    SUBGROUP: await make(Role.SUBGROUP, 'Demo Sub-Group member'),
    CHAIR: await make(Role.CHAIR, `Demo Chair of ${first.name}`, first.code),
    ANALYST: await make(Role.ANALYST, 'Demo analyst'),
    chairCommunity: first.code,
  };
}

export function demoTokensFile(dataDir: string): string {
  return path.join(dataDir, 'demo-tokens.json');
}

export function writeDemoTokens(dataDir: string, tokens: DemoTokens): void {
  fs.writeFileSync(demoTokensFile(dataDir), JSON.stringify(tokens, null, 2) + '\n', { mode: 0o600 });
}

export function readDemoTokens(dataDir: string): DemoTokens | null {
  try {
    return JSON.parse(fs.readFileSync(demoTokensFile(dataDir), 'utf8'));
  } catch {
    return null;
  }
}
