import path from 'node:path';
import { postgresVersionProblem } from '../../server/db/version';
import { ConfigError, loadConfig } from '../../server/config';

describe('configuration', () => {
  it('defaults to the embedded database in ./.hub-data on port 4000', () => {
    const c = loadConfig({});
    expect(c.databaseUrl).toBeNull();
    expect(c.dataDir).toBe(path.resolve('.hub-data'));
    expect(c.port).toBe(4000);
    expect(c.oidc).toBeNull();
  });

  it('refuses a DATABASE_URL that is not a PostgreSQL URL, hiding the password', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://u:secret@h/db' })).toThrow(ConfigError);
    try {
      loadConfig({ DATABASE_URL: 'mysql://u:secret@h/db' });
    } catch (e) {
      expect((e as Error).message).not.toContain('secret');
      expect((e as Error).message).toContain('postgres://');
    }
  });

  it('prepares the compiled reads on PostgreSQL unless HUB_PREPARED_STATEMENTS=0', () => {
    expect(loadConfig({}).preparedStatements).toBe(true);
    expect(loadConfig({ HUB_PREPARED_STATEMENTS: '0' }).preparedStatements).toBe(false);
  });

  it('says which variable is wrong and what range it takes', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow('PORT must be a whole number from 0 to 65535; got "eighty".');
  });

  it('needs an audience when an OIDC issuer is set, and derives the Entra JWKS address', () => {
    expect(() => loadConfig({ OIDC_ISSUER: 'https://login.microsoftonline.com/t/v2.0' })).toThrow(/OIDC_AUDIENCE/);
    const c = loadConfig({ OIDC_ISSUER: 'https://login.microsoftonline.com/t/v2.0', OIDC_AUDIENCE: 'api://hub' });
    expect(c.oidc).toMatchObject({
      audience: 'api://hub',
      roleClaim: 'roles',
      jwksUrl: 'https://login.microsoftonline.com/t/discovery/v2.0/keys',
    });
  });

  it('takes the add-in sign-in client id from OIDC_CLIENT_ID, else the audience without "api://"', () => {
    const base = { OIDC_ISSUER: 'https://login.microsoftonline.com/t/v2.0' };
    expect(loadConfig({ ...base, OIDC_AUDIENCE: 'api://11111111-2222-3333-4444-555555555555' }).oidc?.clientId).toBe(
      '11111111-2222-3333-4444-555555555555',
    );
    expect(
      loadConfig({ ...base, OIDC_AUDIENCE: 'api://localhost:3000/abc', OIDC_CLIENT_ID: ' abc ' }).oidc?.clientId,
    ).toBe('abc');
    expect(loadConfig({ ...base, OIDC_AUDIENCE: 'abc' }).oidc?.clientId).toBe('abc');
  });
});

describe('the PostgreSQL server version', () => {
  it('is accepted from PostgreSQL 13 on', () => {
    expect(postgresVersionProblem(130000, '13.0')).toBeNull();
    expect(postgresVersionProblem(150019, '15.19 (Debian 15.19-0+deb12u1)')).toBeNull();
  });

  it('is refused before 13, naming the version found and the one needed', () => {
    expect(postgresVersionProblem(120022, '12.22')).toBe(
      'The database at DATABASE_URL runs PostgreSQL 12.22; the hub needs PostgreSQL 13 or later (it is tested on 15).',
    );
    expect(postgresVersionProblem(Number.NaN, 'unknown')).toMatch(/needs PostgreSQL 13 or later/);
  });
});
