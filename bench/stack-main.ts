import { startStack } from './stack.ts';

/**
 * The Sealpost process of the benchmark: `node --import tsx bench/stack-main.ts pgp|plain|pickup|wkd RELAY_URL`.
 * Prints one JSON line {"port":…} when ready; closes on SIGTERM. Runs apart from the load generator and
 * the sink so that its CPU and memory are its own.
 */
const arg = process.argv[2];
const mode = arg === 'plain' || arg === 'pickup' || arg === 'wkd' ? arg : 'pgp';
const relay = process.argv[3];
if (!relay) throw new Error('usage: stack-main.ts pgp|plain|pickup|wkd RELAY_URL');
const stack = await startStack(mode, relay);
process.stdout.write(`${JSON.stringify({ port: stack.port })}\n`);
process.on('SIGTERM', () => {
  void stack.close().then(() => process.exit(0));
});
