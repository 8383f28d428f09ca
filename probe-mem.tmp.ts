import { randomBytes } from 'node:crypto';
import { encryptAndSignArmoredCrlf } from './keys/openpgp/encrypt.ts';
import { CONFIG, openpgp } from './keys/openpgp/boundary.ts';
import { freshKeyPair } from './test/helpers/keys.ts';
const mode = process.argv[2];
const pair = await freshKeyPair('a@b.c', new Date());
const signer = pair.signer;
const data = randomBytes(25 * 1024 * 1024).toString('base64');
const parts = [Buffer.from(data)];
global.gc?.();
const idle = process.memoryUsage().rss;
let peak = idle;
const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
let n = 0;
if (mode === 'armored') {
  await encryptAndSignArmoredCrlf({ parts, to: [{ fingerprint: '', key: signer.publicKey } as any], signer, now: new Date() }, async (c) => { n += c.length; });
} else {
  const message = await openpgp.createMessage({ binary: new ReadableStream({ start(c) { for (let i = 0; i < parts[0]!.length; i += 262144) c.enqueue(parts[0]!.subarray(i, i + 262144)); c.close(); } }), format: 'binary' });
  const out = await openpgp.encrypt({ message, encryptionKeys: signer.publicKey, signingKeys: signer.key, format: 'binary', config: CONFIG });
  for await (const c of out as any) { n += (c as Uint8Array).length; Buffer.from((c as Uint8Array)).toString('base64'); }
}
clearInterval(t);
console.log(mode, n, 'idle', Math.round(idle / 1e6), 'peak +', Math.round((peak - idle) / 1e6));
