import { startTestHub, TestHub } from '../helpers/hub';
import { startTestDatabase, TestDatabase, usingPostgres } from '../helpers/db';

let db: TestDatabase;
beforeAll(async () => {
  db = await startTestDatabase();
}, 180_000);
afterAll(() => db?.stop());

const store = () => (usingPostgres() ? 'postgres' : 'memory') as 'postgres' | 'memory';
const q = (hub: TestHub, token: string | null) =>
  fetch(`${hub.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: '{ me { role } }' }),
  });

describe('rate limits', () => {
  it('answers 429 with Retry-After once a token has used its requests for the minute', async () => {
    const hub = await startTestHub({ db, rateLimitPerToken: 20, rateLimitStore: store() });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) statuses.push((await q(hub, hub.tokens.ANALYST)).status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(20);
      expect(statuses.filter((s) => s === 429)).toHaveLength(10);
      const res = await q(hub, hub.tokens.ANALYST);
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await res.json()).errors[0].extensions.code).toBe('RATE_LIMITED');
      // Another token from the same address is not held back by the first one.
      expect((await q(hub, hub.tokens.FINANCE)).status).toBe(200);
    } finally {
      await hub.stop();
    }
  });

  it('limits one address whatever tokens it uses', async () => {
    const hub = await startTestHub({ db, rateLimitPerAddress: 15, rateLimitStore: store() });
    try {
      const tokens = [hub.tokens.FINANCE, hub.tokens.SUBGROUP, hub.tokens.ANALYST];
      const statuses: number[] = [];
      for (let i = 0; i < 24; i++) statuses.push((await q(hub, tokens[i % 3])).status);
      expect(statuses.filter((s) => s === 429)).toHaveLength(9);
    } finally {
      await hub.stop();
    }
  });

  it('slows failed authentications and then refuses further guesses from the address', async () => {
    const hub = await startTestHub({ db, authFailuresPerAddress: 10, rateLimitStore: store() });
    try {
      const started = Date.now();
      const statuses: number[] = [];
      for (let i = 0; i < 14; i++) statuses.push((await q(hub, `hnh_guess${i}`)).status);
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
      expect(statuses.slice(10)).toEqual(Array(4).fill(429));
      // Failures 6 to 10 were answered 100-500 ms late: 1.5 s in all.
      expect(Date.now() - started).toBeGreaterThan(1400);
      // A token already checked keeps working from the same address.
    } finally {
      await hub.stop();
    }
  });

  it('shares the counts between hub processes on one PostgreSQL database', async () => {
    if (!usingPostgres()) return; // the embedded database is one process: the memory store is the whole truth there
    const a = await startTestHub({ db, rateLimitPerToken: 10, rateLimitStore: 'postgres' });
    const other = await db.connectAnother();
    const b = await startTestHub({
      db: { ...db, dataSource: other },
      rateLimitPerToken: 10,
      rateLimitStore: 'postgres',
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await q(a, a.tokens.ANALYST)).status);
      for (let i = 0; i < 8; i++) statuses.push((await q(b, a.tokens.ANALYST)).status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
