import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SENDER } from '../helpers/gateway.ts';
import { authKeyFor, linkId, postUnlock } from '../helpers/pickup-client.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { consoleCode } from '../helpers/console.ts';

/**
 * Issue 19: the per-address unlock limit (`pickup.unlockAttemptsPerIp`) counted every unlock, so that 31
 * clients of one practice behind one NAT, each with the right code, were locked out. It now counts wrong
 * codes per address per 15 minutes, in Redis; once an address has reached it, every unlock from it is
 * refused (a right code too) with 429 PU_TOO_MANY_WRONG_CODES and the time to wait. The per-contact lock
 * (5 wrong codes, in the database) is unchanged.
 */
const NAT = '127.0.0.2';
const ELSEWHERE = '127.0.0.3';
const wrong = () => randomBytes(32);

async function newPickup(s: Stack): Promise<{ id: string; right: Buffer }> {
  await s.gw.transport().sendMail({ from: SENDER, to: 'max@example.org', subject: 'Befund', text: 'Hallo.' });
  const msgs = await s.sink.waitFor(2);
  const id = await linkId(msgs.find((m) => m.to[0] === 'max@example.org')!.raw);
  const code = await consoleCode(s.web, 'max@example.org');
  return { id, right: await authKeyFor(s.web, id, code) };
}

describe('security: the unlock limit counts wrong codes per address, not clients behind one NAT', function () {
  this.timeout(120_000);
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('at a limit of 3, four unlocks with the right code from one address all get in', async () => {
    stack = await startStack({ kind: 'sqlite', config: { pickup: { unlockAttemptsPerIp: 3 } } });
    const { id, right } = await newPickup(stack);
    for (let i = 0; i < 4; i++) {
      const r = await postUnlock(stack.web, id, right, { localAddress: NAT });
      assert.equal(r.status, 200, `unlock ${i + 1}: ${JSON.stringify(r.body)}`);
    }
  });

  it('after 3 wrong codes from one address, its right code waits (429, with the time); elsewhere it opens', async () => {
    stack = await startStack({ kind: 'sqlite', config: { pickup: { unlockAttemptsPerIp: 3 } } });
    const { id, right } = await newPickup(stack);
    assert.equal((await postUnlock(stack.web, id, right, { localAddress: NAT })).status, 200);
    for (let i = 0; i < 3; i++) {
      assert.equal((await postUnlock(stack.web, id, wrong(), { localAddress: NAT })).status, 401);
    }
    const refused = await postUnlock(stack.web, id, right, { localAddress: NAT });
    assert.equal(refused.status, 429);
    assert.equal(refused.body.code, 'PU_TOO_MANY_WRONG_CODES');
    const wait = refused.body.retryAfterSeconds as number;
    assert.ok(wait > 800 && wait <= 900, `wait ${wait} s: until 15 minutes after the first wrong code`);
    assert.equal(refused.headers['retry-after'], String(wait));
    assert.equal(refused.body.contact, undefined, 'nothing of the contact');
    assert.equal((await postUnlock(stack.web, id, right, { localAddress: ELSEWHERE })).status, 200);
    assert.match(stack.gw.logText(), /"code":"PU_TOO_MANY_WRONG_CODES"/);
  });

  it('a burst of parallel guesses from one address: no more than the limit reach the code check', async () => {
    stack = await startStack({ kind: 'sqlite', config: { pickup: { unlockAttemptsPerIp: 3 } } });
    const { id } = await newPickup(stack);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => postUnlock(stack!.web, id, wrong(), { localAddress: NAT })),
    );
    const statuses = answers.map((a) => a.status).sort();
    assert.equal(statuses.filter((s) => s === 401).length, 3, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 17, statuses.join(','));
  });

  it('the per-contact lock still locks after 5 wrong codes, from any addresses, and then the right code too', async () => {
    stack = await startStack({ kind: 'sqlite' }); // 30 wrong codes per address: not the limit here
    const { id, right } = await newPickup(stack);
    const answers = [];
    for (let i = 0; i < 5; i++) {
      answers.push((await postUnlock(stack.web, id, wrong(), { localAddress: `127.0.0.${10 + i}` })).status);
    }
    assert.deepEqual(answers, [401, 401, 401, 401, 423]);
    const locked = await postUnlock(stack.web, id, right, { localAddress: ELSEWHERE });
    assert.equal(locked.status, 423);
    assert.equal(locked.body.code, 'PU_LOCKED');
  });
});
