// The entry of a crypto pool thread (keys/crypto-pool.ts). Sealpost runs its TypeScript through tsx
// (bin/sealpost.mjs registers it in the main thread only), so a worker thread registers it too before it
// loads the tasks; under `node --import tsx` (mocha, the bench) it is already active and this is harmless.
import { register } from 'tsx/esm/api';

register();
const { runTask } = await import('./crypto-tasks.ts');

export default function run(message) {
  return runTask(message);
}
