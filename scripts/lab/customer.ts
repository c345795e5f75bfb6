// The shop's customers inside the lab (`palisade lab up` starts this in the customer pod): a loop
// of visits to the storefront with curl, each starting with a DNS lookup of the shop's name at the
// cluster resolver, then the home page, the catalogue and a checkout through web → api → orders.
//
// Usage: node --import tsx scripts/lab/customer.ts DNS_SERVER SHOP_NAME PORT INTERVAL_MS

import { execFile } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);
const [dns = '', shop = '', port = '8080', interval = '2000'] = process.argv.slice(2);
const resolver = new Resolver({ timeout: 2000, tries: 2 });
resolver.setServers([dns]);

async function curl(address: string, path: string, body?: string): Promise<string> {
  const args = ['-sS', '--max-time', '10', '-o', '/dev/null', '-w', '%{http_code}', '--resolve', `${shop}:${port}:${address}`];
  if (body !== undefined) args.push('-H', 'content-type: application/json', '--data', body);
  const { stdout } = await run('curl', [...args, `http://${shop}:${port}${path}`], { timeout: 15_000 });
  return stdout;
}

async function visit(round: number): Promise<void> {
  const [address] = await resolver.resolve4(shop);
  if (address === undefined) throw new Error(`${shop} has no address`);
  const codes = [
    await curl(address, '/'),
    await curl(address, '/api/catalogue'),
    await curl(address, '/api/checkout', JSON.stringify({ session: `customer-${round % 5}` })),
  ];
  process.stdout.write(`round ${round}: ${codes.join(' ')}\n`);
}

// A visit holds no state worth finishing: stop at once.
process.on('SIGTERM', () => process.exit(0));
for (let round = 1; ; round++) {
  await visit(round).catch((err: unknown) => process.stdout.write(`round ${round}: ${err instanceof Error ? err.message : String(err)}\n`));
  await new Promise((resolve) => setTimeout(resolve, Number(interval)));
}
