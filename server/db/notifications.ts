import { Client, type ClientConfig, type Notification } from 'pg';

type Handler = (event: { channel: string; payload: string } | 'reset') => void;

/**
 * PostgreSQL notifications for one DataSource, from one dedicated LISTEN connection that reconnects by itself.
 * `live` is true only while that connection listens: whatever trusts notifications (a cache) must not trust
 * itself otherwise. Subscribers also get 'reset' whenever notifications may have been missed (the connection
 * was lost, or has just been made), and drop what they hold.
 *
 * On embedded PGlite, pglite-socket serves every client connection from one shared session, and a notification
 * comes back on the connection whose statement sent it, not on the listener's: the pool's connections forward
 * theirs to `deliver` (createDataSource wires that), so a change made through this DataSource is heard at once.
 * Only the hub's process writes to its embedded database, so nothing else can go unheard there.
 */
export class DatabaseNotifications {
  private client: Client | null = null;
  private readonly handlers = new Set<Handler>();
  private starting: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private retryMs = RETRY_MIN_MS;
  private stopped = false;
  live = false;

  private readonly key: string;

  constructor(
    private readonly config: ClientConfig,
    private readonly channels: readonly string[],
  ) {
    this.key = String(config.connectionString ?? `${config.host}:${config.port}/${config.database}`);
  }

  subscribe(handler: Handler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Resolves once the first connection attempt has finished (listening or not); later calls return at once. */
  start(): Promise<void> {
    if (!this.starting) {
      let peers = SAME_DATABASE.get(this.key);
      if (!peers) SAME_DATABASE.set(this.key, (peers = new Set()));
      peers.add(this);
      this.starting = this.connect();
    }
    return this.starting;
  }

  deliver(n: Pick<Notification, 'channel' | 'payload'>): void {
    if (!this.channels.includes(n.channel)) return;
    this.emit({ channel: n.channel, payload: n.payload ?? '' });
  }

  /**
   * A notification that reached one of the pool's connections, which only happens on PGlite: every DataSource
   * of this process on the same database hears it (each has its own cache), as the one process that owns it.
   */
  deliverFromPool(n: Pick<Notification, 'channel' | 'payload'>): void {
    for (const other of SAME_DATABASE.get(this.key) ?? [this]) other.deliver(n);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const peers = SAME_DATABASE.get(this.key);
    peers?.delete(this);
    if (peers?.size === 0) SAME_DATABASE.delete(this.key);
    this.live = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }

  private emit(event: Parameters<Handler>[0]): void {
    for (const h of this.handlers) h(event);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ ...this.config, application_name: 'high-needs-hub notifications' });
    let lost = false;
    const onLost = () => {
      if (lost) return;
      lost = true;
      void client.end().catch(() => undefined);
      if (this.client === client) this.client = null;
      this.live = false;
      this.emit('reset');
      this.retry();
    };
    client.on('error', onLost);
    client.on('end', onLost);
    client.on('notification', (n) => this.deliver(n));
    try {
      await client.connect();
      for (const channel of this.channels) await client.query(`LISTEN "${channel.replace(/"/g, '""')}"`);
    } catch {
      onLost();
      return;
    }
    if (this.stopped || lost) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.retryMs = RETRY_MIN_MS;
    // Anything held from before this connection listened may have missed a change.
    this.emit('reset');
    this.live = true;
  }

  private retry(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, this.retryMs);
    this.timer.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }
}

/** Started listeners by database, for deliverFromPool. */
const SAME_DATABASE = new Map<string, Set<DatabaseNotifications>>();
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 30000;
