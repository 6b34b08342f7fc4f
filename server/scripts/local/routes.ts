import express, { Request, Response } from 'express';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { GraphQLError } from 'graphql';
import { cliViewer } from '../../modules/imports/command-line';
import { Args, COMMANDS } from './commands';
import { matchesSecret } from './credential';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * POST /local/run/<command>: the command line's door into the hub that owns the embedded folder. Only from this
 * machine, and only with the secret in the folder's 0600 credential file, so only the folder's owner gets in.
 * The arguments travel as base64url JSON in `x-hub-args`, the file (imports) as the body, streamed.
 */
export function localAdminRouter(deps: { dataSource: DataSource; secret: string; logger: Logger }): express.Router {
  const router = express.Router();
  router.post('/run/:command', async (req: Request, res: Response) => {
    if (!LOOPBACK.has(req.socket.remoteAddress ?? '') || !matchesSecret(req.headers.authorization, deps.secret)) {
      res.status(401).json({
        out: [],
        err: [
          "high-needs-hub: the local credential was refused (run the command as the data folder's owner, on this machine).",
        ],
        exitCode: 1,
      });
      return;
    }
    const command = COMMANDS[String(req.params.command)];
    if (!command) {
      res.status(404).json({ out: [], err: [`high-needs-hub: unknown command ${req.params.command}.`], exitCode: 1 });
      return;
    }
    let args: Args;
    try {
      args = JSON.parse(Buffer.from(String(req.headers['x-hub-args'] ?? ''), 'base64url').toString('utf8') || '{}');
    } catch {
      res.status(400).json({ out: [], err: ["high-needs-hub: the command's arguments are not JSON."], exitCode: 1 });
      return;
    }
    const actor = String(req.headers['x-hub-actor'] ?? 'unknown').slice(0, 60);
    try {
      const out = await command({ dataSource: deps.dataSource, viewer: cliViewer(actor), input: () => req }, args);
      res.json(out);
    } catch (err) {
      if (err instanceof GraphQLError) {
        res.status(400).json({ out: [], err: [`high-needs-hub: ${err.message}`], exitCode: 1 });
        return;
      }
      deps.logger.error({ err, command: req.params.command }, 'local command failed');
      res.status(500).json({
        out: [],
        err: [`high-needs-hub: ${req.params.command} failed inside the hub: ${(err as Error).message}`],
        exitCode: 1,
      });
    }
  });
  return router;
}
