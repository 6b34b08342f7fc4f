/**
 * The Excel add-in served by the hub itself at /addin/ (same origin as /graphql, so the pane and the API
 * need no CORS), and a CORS allow-list for an add-in hosted elsewhere (CORS_ORIGINS). An origin not on the
 * list gets no CORS headers at all: the browser then refuses the response, which the pane reports as
 * "refused by the browser", not as "hub unreachable".
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';

export interface AddinHosting {
  /** The built add-in (node addin/build.mjs with ADDIN_HOST=<public URL>/addin); null or missing: not served. */
  addinDir?: string | null;
  /** Exact origins ("https://addin.example") allowed to call the hub from a browser. */
  corsOrigins?: string[];
}

const ALLOWED_HEADERS = 'authorization, content-type, accept, x-request-id';

export function addinRouter(opts: AddinHosting): Router {
  const router = express.Router();
  const allowed = new Set((opts.corsOrigins ?? []).map((o) => o.toLowerCase()));
  if (allowed.size) {
    router.use((req: Request, res: Response, next: NextFunction) => {
      const origin = req.headers.origin;
      if (!origin || !allowed.has(origin.toLowerCase())) return next();
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Expose-Headers', 'x-request-id');
      if (req.method === 'OPTIONS') {
        res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
        res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
        res.setHeader('Access-Control-Max-Age', '600');
        return res.status(204).end();
      }
      next();
    });
  }
  const dir = opts.addinDir ? path.resolve(opts.addinDir) : null;
  if (dir && existsSync(path.join(dir, 'taskpane.html'))) {
    // Office caches add-in files aggressively; a short max-age keeps an upgraded hub's pane current.
    router.use(
      '/addin',
      express.static(dir, { index: 'taskpane.html', maxAge: '5m', fallthrough: true, dotfiles: 'deny' }),
    );
  } else {
    router.get(['/addin', '/addin/*path'], (_req, res) => {
      res
        .status(404)
        .type('text/plain')
        .send(
          'The add-in is not built on this hub: run `ADDIN_HOST=https://<this hub>/addin npm run addin:build`, then restart the hub.',
        );
    });
  }
  return router;
}

/** CORS_ORIGINS: comma-separated origins, each scheme://host[:port] with no path. */
export function parseCorsOrigins(raw: string | undefined): string[] {
  if (!raw?.trim()) return [];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((o) => {
      let u: URL;
      try {
        u = new URL(o);
      } catch {
        throw new Error(`CORS_ORIGINS: "${o}" is not an origin like https://addin.example`);
      }
      if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.origin !== o.replace(/\/$/, '')) {
        throw new Error(
          `CORS_ORIGINS: "${o}" must be an origin (scheme://host[:port], no path), e.g. https://addin.example`,
        );
      }
      return u.origin;
    });
}
