import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The local credential of a hub that owns an embedded data folder: the command line (imports, tokens, migrations,
 * seed) reaches the running hub with it instead of opening the folder a second time. The file is mode 0600 in a
 * 0700 folder, so only the folder's owner can read it; it is rewritten at every start and removed at stop.
 */
export const CREDENTIAL_FILE = 'local-admin.json';

export interface LocalCredential {
  /** Base URL the hub listens on, as reachable from this machine. */
  url: string;
  pid: number;
  secret: string;
}

export const newSecret = () => crypto.randomBytes(32).toString('base64url');

export function writeCredential(dataDir: string, cred: LocalCredential): void {
  const file = path.join(dataDir, CREDENTIAL_FILE);
  const tmp = `${file}.${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(cred) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export function removeCredential(dataDir: string): void {
  fs.rmSync(path.join(dataDir, CREDENTIAL_FILE), { force: true });
}

/** The credential, or a one-line reason it cannot be used. */
export function readCredential(dataDir: string): LocalCredential | { problem: string } {
  const file = path.join(dataDir, CREDENTIAL_FILE);
  try {
    const cred = JSON.parse(fs.readFileSync(file, 'utf8')) as LocalCredential;
    if (typeof cred.url !== 'string' || typeof cred.secret !== 'string')
      return { problem: `${file} is not a hub credential` };
    return cred;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES')
      return { problem: `${file} is readable by the data folder's owner only: run the command as that user` };
    if (code === 'ENOENT')
      return {
        problem: `the hub has not published ${file} (it is still starting, or it is an older version): try again in a moment`,
      };
    return { problem: `${file} cannot be read (${code ?? (err as Error).message})` };
  }
}

/** Constant-time check of an `Authorization: Local <secret>` header. */
export function matchesSecret(header: string | undefined, secret: string): boolean {
  const given = /^Local (\S+)$/.exec(header ?? '')?.[1] ?? '';
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}
