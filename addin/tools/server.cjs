// The add-in's HTTPS server: static files from addin/dist, office.js assets from the npm package, and
// /graphql (and the public /auth/config) proxied to the hub so the pane talks to one origin (no CORS set-up needed in development).
'use strict';
const https = require('node:https');
const http = require('node:http');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.xml': 'application/xml',
  '.png': 'image/png',
  '.map': 'application/json',
};

/**
 * Development certificates: the office-addin-dev-certs layout (~/.office-addin-dev-certs), generated locally
 * with its own generator when missing, so `npx office-addin-dev-certs install` can later trust the same CA.
 */
async function devCertificates(dir = process.env.ADDIN_CERT_DIR || path.join(os.homedir(), '.office-addin-dev-certs')) {
  const ca = path.join(dir, 'ca.crt');
  const cert = path.join(dir, 'localhost.crt');
  const key = path.join(dir, 'localhost.key');
  if (!fs.existsSync(cert) || !fs.existsSync(key)) {
    const { generateCertificates } = require('office-addin-dev-certs');
    await generateCertificates(ca, cert, key, 30, ['127.0.0.1', 'localhost']);
  }
  return { cert: fs.readFileSync(cert), key: fs.readFileSync(key), caPath: ca };
}

function officeDistDir() {
  return path.join(path.dirname(require.resolve('@microsoft/office-js/package.json')), 'dist');
}

function safeJoin(root, urlPath) {
  const p = path.normalize(path.join(root, decodeURIComponent(urlPath)));
  return p.startsWith(root) ? p : null;
}

function proxy(req, res, hubUrl) {
  const target = new URL(req.url, hubUrl);
  const client = target.protocol === 'https:' ? https : http;
  const headers = { ...req.headers, host: target.host };
  const up = client.request(target, { method: req.method, headers, rejectUnauthorized: false }, (r) => {
    res.writeHead(r.statusCode || 502, r.headers);
    r.pipe(res);
  });
  up.on('error', (e) => {
    // The pane shows this text: "unreachable" must be a clear answer, not a hung request.
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        errors: [{ message: `Hub unreachable at ${hubUrl}: ${e.message}`, extensions: { code: 'HUB_UNREACHABLE' } }],
      }),
    );
  });
  up.setTimeout(60_000, () => up.destroy(new Error('timeout')));
  req.pipe(up);
}

async function startAddinServer(opts = {}) {
  const root = path.resolve(opts.root || path.join(__dirname, '..', 'dist'));
  const hubUrl = opts.hubUrl || process.env.HUB_URL || 'http://localhost:4000';
  const port = opts.port ?? Number(process.env.ADDIN_PORT || 3000);
  const extra = opts.extraFiles || {};
  if (!fs.existsSync(path.join(root, 'taskpane.html')))
    throw new Error(`${root} has no build: run \`node addin/build.mjs\` first`);
  const { cert, key } = await devCertificates(opts.certDir);
  const officeDir = officeDistDir();
  const server = https.createServer({ cert, key }, (req, res) => {
    const url = new URL(req.url, 'https://x');
    if (url.pathname === '/graphql' || url.pathname.startsWith('/graphql/') || url.pathname === '/auth/config')
      return proxy(req, res, hubUrl);
    if (extra[url.pathname]) {
      res.writeHead(200, {
        'content-type': TYPES[path.extname(url.pathname)] || 'application/octet-stream',
        'cache-control': 'no-store',
      });
      return res.end(fs.readFileSync(extra[url.pathname]));
    }
    const rel = url.pathname === '/' ? '/taskpane.html' : url.pathname;
    for (const base of [root, officeDir]) {
      const file = safeJoin(base, rel);
      if (file && fs.existsSync(file) && fs.statSync(file).isFile()) {
        res.writeHead(200, {
          'content-type': TYPES[path.extname(file)] || 'application/octet-stream',
          'cache-control': 'no-store',
        });
        return fs.createReadStream(file).pipe(res);
      }
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });
  await new Promise((resolve, reject) => server.once('error', reject).listen(port, opts.host || '127.0.0.1', resolve));
  const actual = server.address().port;
  return {
    url: `https://localhost:${actual}`,
    port: actual,
    hubUrl,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}

module.exports = { startAddinServer, devCertificates };
