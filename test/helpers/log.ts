import { Writable } from 'node:stream';
import { createLog, type Log } from '../../core/log.ts';

/** A real pino log whose lines are kept in memory so that tests can scan them for content. */
export function captureLog(level = 'debug'): { log: Log; lines: string[]; text: () => string } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  const log = createLog({ level, destination });
  return { log, lines, text: () => lines.join('') };
}
