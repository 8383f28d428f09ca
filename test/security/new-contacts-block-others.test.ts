import assert from 'node:assert/strict';
import { replyCode, SENDER, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { testDbKinds } from '../helpers/db.ts';
import { until } from '../helpers/lifecycle.ts';

/**
 * A sender (or a stolen account) writes one message to many new pickup contacts: each new contact costs a
 * key pair and an Argon2id run (64 MiB, t=3), about half a second of CPU. On the event loop that held every
 * other client's SMTP session for the whole time (59 s for 100 contacts; others waited 12–14 s). The work
 * runs in the crypto pool's threads instead: while the big message is in DATA, other sessions complete.
 *
 * Ordering, not timing: the other client opens NEXT_SESSIONS fresh sessions one after the other (TLS, AUTH,
 * one message each, about a dozen round trips each), all of which must be answered 250 before the big
 * message is. On the event loop each round trip waited for an Argon2id run, so the big message won.
 */
const NEW_CONTACTS = 30;
const NEXT_SESSIONS = 8;
const OTHER = 'colleague@clinic.example';

for (const kind of testDbKinds().slice(0, 1)) {
  describe(`security: new pickup contacts do not block other clients (${kind})`, function () {
    this.timeout(180_000);
    let gw: TestGateway | undefined;
    afterEach(async () => {
      await gw?.close();
      gw = undefined;
    });

    function message(to: string[], n: number): string {
      return [`From: <${SENDER}>`, `To: ${to.join(', ')}`, `Subject: n${n}`, '', 'Notes', ''].join('\r\n');
    }

    it(`answers other sessions while one message creates ${NEW_CONTACTS} new contacts`, async () => {
      const g = await startTestGateway({ kind, limits: { maxRecipients: 100 } });
      gw = g;
      await g.addRecipient(OTHER);
      const contacts = Array.from({ length: NEW_CONTACTS }, (_, i) => `client${i}@example.org`);
      const big = g
        .transport()
        .sendMail({ envelope: { from: SENDER, to: contacts }, raw: message(contacts, 0) });
      let bigAnswered = false;
      const bigDone = big.then(
        (info) => {
          bigAnswered = true;
          return info;
        },
        (err: unknown) => {
          bigAnswered = true;
          throw err;
        },
      );
      // The big message has every recipient's verdict: its DATA (the contacts' key work) comes next.
      const log = g.logText;
      await until(
        'every RCPT of the big message answered',
        () => {
          const verdicts = log().match(/"code":"GW_RCPT_VERDICT"[^\n]*"verdict":"pickup"/g) ?? [];
          return verdicts.length >= NEW_CONTACTS;
        },
        60_000,
      );

      const answeredWhileBusy: boolean[] = [];
      for (let i = 1; i <= NEXT_SESSIONS; i++) {
        const info = await g
          .transport()
          .sendMail({ envelope: { from: SENDER, to: [OTHER] }, raw: message([OTHER], i) });
        assert.equal(replyCode(info.response), 'GW_ACCEPTED');
        answeredWhileBusy.push(!bigAnswered);
      }
      assert.deepEqual(
        answeredWhileBusy,
        Array.from({ length: NEXT_SESSIONS }, () => true),
        'every other session was answered before the message to the new contacts',
      );

      const bigInfo = await bigDone;
      assert.equal(replyCode(bigInfo.response), 'GW_ACCEPTED');
      const created = await g.testDb.db.kysely.selectFrom('contacts').select('id').execute();
      assert.equal(created.length, NEW_CONTACTS);
      assert.ok(g.deps.crypto.completed >= NEW_CONTACTS, 'the contacts were made in the crypto pool');
    });
  });
}
