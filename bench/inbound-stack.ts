import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { systemClock } from '../core/clock.ts';
import { parseConfig } from '../core/config.ts';
import { openDb } from '../core/db/index.ts';
import { createLog } from '../core/log.ts';
import { Sealer } from '../core/seal.ts';
import { selfSigned } from '../core/tls.ts';
import { UserStore } from '../core/users.ts';
import { createInbound } from '../gateway/inbound/index.ts';
import { createCryptoPool, inThreadCrypto, KeyStore } from '../keys/index.ts';
import { tmpDir } from '../test/helpers/tmp.ts';
import { SENDER } from './stack.ts';

/**
 * The Sealpost process of the inbound benchmark: `node --import tsx bench/inbound-stack.ts RELAY_URL
 * COLLEAGUE_KEY_FILE`. SQLite in a temp folder, Anna with a sender key, the colleague's public key pinned
 * (so that signatures verify), the inbound listener on port 0 relaying to RELAY_URL. Prints one JSON line
 * {"port":…,"publicKey":…} when ready; closes on SIGTERM.
 */
const [relay, colleagueKeyFile] = process.argv.slice(2);
if (!relay || !colleagueKeyFile) throw new Error('usage: inbound-stack.ts RELAY_URL COLLEAGUE_KEY_FILE');
const tmp = tmpDir('sealpost-bench-in-');
const config = parseConfig({
  dataDir: tmp.dir,
  hostname: 'sealpost.bench',
  listenHost: '127.0.0.1',
  inboundPort: 0,
  inboundRelay: relay,
});
const log = createLog({ level: 'info', destination: pino.destination('/dev/null') });
const db = await openDb({ dataDir: tmp.dir });
const sealer = new Sealer(randomBytes(32));
const keys = new KeyStore({ db: db.kysely, sealer, clock: systemClock, log });
await new UserStore(db.kysely).add({ login: SENDER, password: 'bench-password-1' }, systemClock.now());
const { publicKey } = await keys.generateSenderKey(SENDER);
await keys.importKeys(readFileSync(colleagueKeyFile, 'utf8'));
// BENCH_CRYPTO=inline: decryption on the event loop, as before the crypto pool did it (issue 17).
const crypto = process.env.BENCH_CRYPTO === 'inline' ? inThreadCrypto() : createCryptoPool();
const inbound = createInbound({
  config,
  db,
  log,
  clock: systemClock,
  sealer,
  redis: {},
  keys,
  crypto,
  tls: await selfSigned('sealpost.bench'),
});
const port = await inbound.listen();
process.stdout.write(`${JSON.stringify({ port, publicKey })}\n`);
process.on('SIGTERM', () => {
  void inbound
    .close()
    .then(() => crypto.close())
    .then(() => db.close())
    .then(() => {
      tmp.cleanup();
      process.exit(0);
    });
});
