import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { withDatabase } from './cli';
import { createToken, revokeToken } from '../auth/tokens';

const USAGE = `usage:
  npm run token:create -- --role FINANCE|SUBGROUP|CHAIR|ANALYST --name LABEL [--community CODE] [--client api|addin]
  npm run token:revoke -- ID_OR_PREFIX
  npm run token:list`;

const [command, ...rest] = process.argv.slice(2);

void withDatabase(async ({ dataSource }) => {
  if (command === 'create') {
    const { values } = parseArgs({ args: rest, options: { role: { type: 'string' }, name: { type: 'string' }, community: { type: 'string' }, client: { type: 'string' } } });
    if (!values.role || !values.name) throw new Error(`--role and --name are required.\n${USAGE}`);
    const t = await createToken(dataSource.manager, { role: values.role, name: values.name, communityCode: values.community, client: values.client });
    console.error(`Created ${t.role} ${t.client === 'addin' ? 'add-in ' : ''}token "${t.name}"${t.communityCode ? ` for community ${t.communityCode}` : ''} (id ${t.id}). It is shown once: store it now.`);
    console.log(t.token);
  } else if (command === 'revoke') {
    if (!rest[0]) throw new Error(USAGE);
    const n = await revokeToken(dataSource.manager, rest[0]);
    if (n === 0) throw new Error(`No active token has id or prefix "${rest[0]}".`);
    console.log(`Revoked ${n} token(s).`);
  } else if (command === 'list') {
    const rows = await dataSource.query(
      `SELECT id, prefix, name, role, community_code, client, created_at, revoked_at FROM api_token ORDER BY created_at`,
    );
    for (const r of rows) {
      console.log(`${r.id}  ${r.prefix}…  ${r.role.padEnd(8)} ${(r.community_code ?? '').padEnd(7)} ${r.client.padEnd(5)} ${r.revoked_at ? 'REVOKED ' : 'active  '} ${r.name}`);
    }
  } else {
    throw new Error(USAGE);
  }
});
