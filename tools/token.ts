/**
 * `npm run token -- --oem <oem_id> [--admin]`: prints a bearer token the local cloud's HTTP API
 * accepts (signed by the local issuer that stands in for the Cognito user pool).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LocalIssuer } from '../infra/local-cloud/services/apigateway/local-issuer';

const USAGE = `Usage: npm run token -- --oem <oem_id> [--admin] [--subject <id>] [--expires-in <seconds>] [--data-dir <dir>]
Prints a bearer token for the local cloud's HTTP API (start it first with npm start).
Example: curl -H "Authorization: Bearer $(npm run -s token -- --oem 1234abcd)" http://127.0.0.1:3000/me`;

async function main(): Promise<void> {
  let values;
  try {
    values = parseArgs({
      options: {
        oem: { type: 'string' },
        admin: { type: 'boolean', default: false },
        subject: { type: 'string' },
        'expires-in': { type: 'string', default: '3600' },
        'data-dir': { type: 'string', default: path.resolve(__dirname, '..', '.local') },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const oem = values.oem?.trim();
  if (!oem || !/^[A-Za-z0-9_-]{1,64}$/.test(oem)) {
    console.error(`--oem <oem_id> is required (letters, digits, _ or -).\n${USAGE}`);
    process.exit(2);
  }
  const expiresIn = Number(values['expires-in']);
  if (!Number.isInteger(expiresIn) || expiresIn <= 0) {
    console.error('--expires-in must be a positive number of seconds');
    process.exit(2);
  }
  const issuerFile = path.join(values['data-dir']!, 'issuer.json');
  const issuer = await LocalIssuer.load(issuerFile).catch(() => {
    console.error(`No local issuer at ${issuerFile}: start the local cloud first (npm start).`);
    process.exit(1);
  });
  process.stdout.write(`${await issuer.sign({ oemId: oem, admin: values.admin, subject: values.subject, expiresInSeconds: expiresIn })}\n`);
}

void main();
