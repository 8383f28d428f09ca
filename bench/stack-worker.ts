import { startWorker, type WorkerJoin } from './stack.ts';

/**
 * The delivery worker of a split benchmark stack (bench/stack.ts), in a process of its own as `npm start`
 * runs it: `node --import tsx bench/stack-worker.ts JSON`. Prints `worker-ready` when it runs; closes on
 * SIGTERM.
 */
const join = JSON.parse(process.argv[2] ?? '{}') as WorkerJoin;
const worker = await startWorker(join);
process.stdout.write('worker-ready\n');
process.on('SIGTERM', () => {
  void worker.close().then(() => process.exit(0));
});
