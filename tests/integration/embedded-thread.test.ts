import { Client } from 'pg';
import { startEmbedded } from '../../server/db/embedded';

/*
 * Embedded PGlite runs on a worker thread of its own (server/db/embedded.ts): the database's work does not hold up
 * the hub's event loop, and stopping it is safe to repeat.
 */
describe('the embedded database on its own thread', () => {
  it("answers over its socket while this thread's timers keep running through a long statement", async () => {
    const db = await startEmbedded(null);
    const client = new Client({ connectionString: db.url });
    try {
      await client.connect();
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      const started = Date.now();
      const [{ n }] = (
        await client.query(`SELECT count(*)::int AS n FROM generate_series(1, 1000000) g WHERE g % 7 = 0`)
      ).rows;
      const elapsed = Date.now() - started;
      clearInterval(timer);
      expect(n).toBe(142857);
      // On one thread the statement would block the event loop and no tick would run until it finished.
      expect(elapsed).toBeGreaterThan(100);
      expect(ticks).toBeGreaterThanOrEqual(Math.floor(elapsed / 100));
    } finally {
      await client.end();
      await db.stop();
    }
  });

  it('stops once, and a second stop returns at once', async () => {
    const db = await startEmbedded(null);
    await db.stop();
    await db.stop();
    const client = new Client({ connectionString: db.url, connectionTimeoutMillis: 2000 });
    await expect(client.connect()).rejects.toThrow();
  });
});
