import assert from 'node:assert/strict';
import { LoadLog, summaryLine } from '../../bench/summary.ts';

describe('bench summary line (issue 17)', () => {
  it('has exactly the agreed shape', () => {
    const line = summaryLine({
      pgp: 182.43,
      ratio: 0.7412,
      p99: 87.6,
      bigBytes: 71.2 * 1024 * 1024,
      renderMs: 1209.7,
      inbound: 0.834,
      load: 0.44,
    });
    assert.equal(
      line,
      'pgp=182.4 msgs/s ratio=0.74 p99=88 ms big=+71 MB render=1210 ms inbound=0.83 load=0.4',
    );
  });

  it('signs a memory figure below idle and keeps the shape for missing numbers', () => {
    const line = summaryLine({
      pgp: 90,
      ratio: 0.5,
      p99: 120,
      bigBytes: -3 * 1024 * 1024,
      renderMs: 1979,
      inbound: NaN,
      load: 11.96,
    });
    assert.equal(
      line,
      'pgp=90.0 msgs/s ratio=0.50 p99=120 ms big=-3 MB render=1979 ms inbound=NaN load=12.0',
    );
    assert.match(
      line,
      /^pgp=\S+ msgs\/s ratio=\S+ p99=\S+ ms big=[+-]\d+ MB render=\S+ ms inbound=\S+ load=\S+$/,
    );
  });

  it('reports the highest load recorded before a run', () => {
    const loads = new LoadLog();
    const log = console.log;
    console.log = () => undefined;
    try {
      loads.before('plain', () => 1.5);
      loads.before('pgp', () => 3.25);
      loads.before('big', () => 2);
    } finally {
      console.log = log;
    }
    assert.equal(loads.max, 3.25);
  });
});
