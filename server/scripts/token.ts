import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { runCommand } from './cli';

const USAGE = `usage:
  npm run token:create -- --role FINANCE|SUBGROUP|CHAIR|ANALYST --name LABEL [--community CODE] [--client api|addin]
  npm run token:revoke -- ID_OR_PREFIX
  npm run token:list`;

const [command, ...rest] = process.argv.slice(2);

if (command === 'create') {
  const { values } = parseArgs({
    args: rest,
    options: {
      role: { type: 'string' },
      name: { type: 'string' },
      community: { type: 'string' },
      client: { type: 'string' },
    },
  });
  if (!values.role || !values.name) {
    process.stderr.write(`high-needs-hub: --role and --name are required.\n${USAGE}\n`);
    process.exitCode = 1;
  } else void runCommand('token:create', values);
} else if (command === 'revoke' && rest[0]) {
  void runCommand('token:revoke', { id: rest[0] });
} else if (command === 'list') {
  void runCommand('token:list', {});
} else {
  process.stderr.write(`${USAGE}\n`);
  process.exitCode = 1;
}
