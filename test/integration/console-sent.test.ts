import assert from 'node:assert/strict';
import { decryptAndVerify } from '../../keys/openpgp/index.ts';
import type { EvidenceAnswer, SentAnswer } from '../../webmail/contract/console-sent.ts';
import { consoleCodes, consoleFetch, consoleSignIn, type ConsoleSession } from '../helpers/console.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { linkId, metadata, readMessage, unlock } from '../helpers/pickup-client.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * Her sent messages through the real stack and the console API (docs/console.md "Sent messages"): SMTP to
 * one PGP recipient and one pickup → both paths with the key, its source and the delivered state with the
 * receiving server's reply → the client opens the pickup → "first opened" → withdraw → the link says
 * withdrawn → the evidence record matches what the sink received, and holds no subject.
 */
const MAX = 'max@example.org';
const COLLEAGUE = 'kollegin@klinik.example';

async function sent(s: ConsoleSession): Promise<SentAnswer> {
  const res = await consoleFetch(s, 'GET', '/api/console/sent');
  assert.equal(res.status, 200);
  return (await res.json()) as SentAnswer;
}

for (const kind of testDbKinds()) {
  describe(`console: sent messages, withdraw, evidence (${kind})`, function () {
    this.timeout(180_000);
    let stack: Stack;
    beforeEach(async () => {
      stack = await startStack({ kind });
    });
    afterEach(async () => {
      await stack.close();
    });

    it('lists both paths, first opening, withdrawal; the evidence matches the sink', async () => {
      const colleague = await stack.gw.addRecipient(COLLEAGUE);
      await stack.gw
        .transport()
        .sendMail({ from: SENDER, to: [COLLEAGUE, MAX], subject: 'Befund Müller', text: 'Hallo.' });
      const msgs = await stack.sink.waitFor(3); // the PGP copy, the notification, the receipt
      const anna = await consoleSignIn(stack.web);

      let list = await sent(anna);
      for (
        let i = 0;
        i < 50 && list.messages[0]?.recipients.some((r) => r.delivery.state !== 'delivered');
        i++
      ) {
        await new Promise((r) => setTimeout(r, 100));
        list = await sent(anna);
      }
      assert.equal(list.total, 1);
      const [message] = list.messages;
      const pgp = message!.recipients.find((r) => r.address === COLLEAGUE)!;
      const pickup = message!.recipients.find((r) => r.address === MAX)!;
      assert.equal(pgp.path, 'pgp');
      assert.deepEqual(pgp.key, { fingerprint: colleague.fingerprint, source: pgp.key!.source });
      assert.ok(pgp.key!.source.length > 0, 'where the key came from');
      assert.equal(pgp.delivery.state, 'delivered');
      assert.match(pgp.delivery.reply ?? '', /^250 /, "the receiving server's reply");
      assert.equal(pickup.path, 'pickup');
      assert.equal(pickup.delivery.state, 'delivered');
      assert.equal(pickup.pickup?.firstOpenedAt, null);

      // The subject: readable with her console key only.
      const subject = await decryptAndVerify({
        armored: Buffer.from(message!.subject!.ciphertext, 'base64'),
        decryptionKey: anna.privateKey,
        verificationKeys: [],
        now: new Date(),
      });
      assert.equal(Buffer.from(subject.data).toString('utf8'), 'Befund Müller');

      // The client opens the pickup: "first opened" appears.
      const notification = msgs.find((m) => m.to[0] === MAX)!;
      const id = await linkId(notification.raw);
      const [code] = await consoleCodes(anna);
      const u = await unlock(stack.web, id, code!.code);
      await readMessage(stack.web, u, id);
      const opened = (await sent(anna)).messages[0]!.recipients.find((r) => r.address === MAX)!;
      assert.ok(opened.pickup?.firstOpenedAt, 'first opened at');

      // Withdraw: the ciphertext is gone and the link says so.
      const res = await consoleFetch(anna, 'POST', `/api/console/sent/recipients/${pickup.id}/withdraw`, {});
      assert.equal(res.status, 200);
      const meta = await metadata(stack.web, id);
      assert.equal(meta.status, 410);
      assert.equal(meta.body.code, 'PU_WITHDRAWN');
      assert.equal((await api410(stack, u, id)).status, 404, 'the ciphertext is gone');

      // The evidence record matches what the sink received, and has no subject.
      const ev = await consoleFetch(anna, 'GET', `/api/console/sent/${message!.id}/evidence`);
      const text = await ev.text();
      assert.ok(!text.includes('Befund'), 'no subject in the evidence record');
      const evidence = JSON.parse(text) as EvidenceAnswer;
      const ePgp = evidence.recipients.find((r) => r.address === COLLEAGUE)!;
      const copy = msgs.find((m) => m.to[0] === COLLEAGUE)!;
      // The copy at the sink opens with the key the record names.
      await decryptAndVerify({
        armored: pgpPart(copy.raw),
        decryptionKey: colleague.privateKey,
        verificationKeys: [],
        now: new Date(),
      });
      assert.equal(ePgp.key?.fingerprint, colleague.fingerprint);
      assert.equal(ePgp.delivery.state, 'delivered');
      assert.ok(ePgp.delivery.at);
      const ePickup = evidence.recipients.find((r) => r.address === MAX)!;
      assert.ok(ePickup.pickup?.firstOpenedAt && ePickup.pickup.withdrawnAt);
    });
  });
}

function api410(stack: Stack, u: { cookie: string; sessionKey: string }, id: string) {
  return fetch(`${stack.web}/api/pickup/session/messages/${id}`, {
    headers: { cookie: u.cookie, 'sealpost-session': u.sessionKey },
  });
}

/** The armored OpenPGP message of a PGP/MIME copy. */
function pgpPart(raw: Buffer): string {
  const text = raw.toString('utf8');
  const m = /-----BEGIN PGP MESSAGE-----[\s\S]*?-----END PGP MESSAGE-----/.exec(text);
  assert.ok(m, 'a PGP/MIME copy');
  return m[0];
}
