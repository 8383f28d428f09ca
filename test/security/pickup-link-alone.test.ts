import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { api, linkId, mailText, metadata, unlock } from '../helpers/pickup-client.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { consoleCode } from '../helpers/console.ts';

/**
 * Invariant 4, second half: someone who has only the link (a forwarded notification, a link scanner) gets
 * no ciphertext and no locked key — only what the code entry page needs — and can guess only online,
 * against the lock. The notification and the receipt carry no subject and no body.
 */
for (const kind of testDbKinds()) {
  describe(`security: a pickup link alone yields nothing (${kind})`, function () {
    this.timeout(120_000);
    let stack: Stack;
    beforeEach(async () => {
      stack = await startStack({ kind });
    });
    afterEach(async () => {
      await stack.close();
    });

    it('gives only salt and parameters without the code; no ciphertext, no key; GET changes nothing', async () => {
      const marker = `Vertraulich-${randomBytes(5).toString('hex')}`;
      await stack.gw
        .transport()
        .sendMail({ from: SENDER, to: 'max@example.org', subject: marker, text: marker });
      const msgs = await stack.sink.waitFor(2);
      const notification = msgs.find((m) => m.to[0] === 'max@example.org')!;
      const receipt = msgs.find((m) => m.to[0] === SENDER)!;
      for (const m of [notification, receipt]) {
        assert.ok(!m.raw.toString('latin1').includes(marker), 'a notice carries the subject or body');
        const { subject, text } = await mailText(m.raw);
        assert.ok(!subject.includes(marker) && !text.includes(marker));
      }
      const id = await linkId(notification.raw);
      const before = await metadata(stack.web, id);
      const again = await metadata(stack.web, id);
      assert.deepEqual(again, before, 'GET is idempotent');
      const text = JSON.stringify(before.body);
      assert.ok(!/lockedPrivateKey|ciphertext|authHash|auth_hash/.test(text));
      for (const path of [`/messages/${id}`, '/messages', '/senders', '']) {
        assert.equal((await api(stack.web, { cookie: '', sessionKey: '' }, path)).status, 401, path);
        const forged = { cookie: 'sp_session=forged-token-value', sessionKey: 'forged-key-value' };
        assert.equal((await api(stack.web, forged, path)).status, 401, path);
      }
      const wrong = await fetch(`${stack.web}/api/pickup/${id}/unlock`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ authKey: randomBytes(32).toString('base64') }),
      });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.headers.get('set-cookie'), null, 'no session for a wrong key');
      const body = await wrong.text();
      assert.ok(!/lockedPrivateKey/.test(body));
    });

    it("a contact's session cannot fetch another contact's pickup", async () => {
      await stack.gw.transport().sendMail({ from: SENDER, to: 'max@example.org', subject: 'a', text: 'a' });
      await stack.gw.transport().sendMail({ from: SENDER, to: 'eva@example.org', subject: 'b', text: 'b' });
      const msgs = await stack.sink.waitFor(4);
      const maxId = await linkId(msgs.find((m) => m.to[0] === 'max@example.org')!.raw);
      const evaId = await linkId(msgs.find((m) => m.to[0] === 'eva@example.org')!.raw);
      const maxCode = await consoleCode(stack.web, 'max@example.org');
      const u = await unlock(stack.web, maxId, maxCode);
      assert.equal((await api(stack.web, u, `/messages/${evaId}`)).status, 404);
      assert.equal((await api(stack.web, u, `/messages/${maxId}`)).status, 200);
    });
  });
}
