import assert from 'node:assert/strict';
import { CONSOLE_ROUTES } from '../../webmail/console-api/table.ts';
import {
  consoleCodes,
  consoleFetch,
  consoleSignIn,
  ownPassphraseBody,
  secondPractitioner,
  type ConsoleSession,
} from '../helpers/console.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { api, buildReply, linkId, unlock } from '../helpers/pickup-client.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * One practitioner never sees or touches another's access codes or pickup replies in the console
 * (docs/console.md), tried on every route of CONSOLE_ROUTES (the contract's list; a new route without a case here fails the test).
 */
const BEN = 'ben@praxis.example';
const BEN_PASSWORD = 'ben-password-long';

for (const kind of testDbKinds()) {
  describe(`security: console, one practitioner cannot reach another's codes (${kind})`, function () {
    this.timeout(120_000);
    let stack: Stack;
    beforeEach(async () => {
      stack = await startStack({ kind });
    });
    afterEach(async () => {
      await stack.close();
    });

    it('every route answers only for the signed-in practitioner', async () => {
      const info = await stack.gw
        .transport()
        .sendMail({ from: SENDER, to: 'max@example.org', subject: 'S', text: 'T' });
      const first = await stack.sink.waitFor(2);
      const annaReplyId = await replyToAnna(stack, first, info.messageId);
      await secondPractitioner(stack, {
        login: BEN,
        password: BEN_PASSWORD,
        contact: 'eva@example.org',
        expectMails: 5,
      });
      const anna = await consoleSignIn(stack.web);
      const ben = await consoleSignIn(stack.web, BEN, BEN_PASSWORD);
      const annas = await consoleCodes(anna);
      assert.deepEqual(
        annas.map((c) => c.contact),
        ['max@example.org'],
      );
      const annaCodeId = annas[0]!.id;
      const annaSent = (await (await consoleFetch(anna, 'GET', '/api/console/sent')).json()) as {
        messages: { id: string; recipients: { id: string }[] }[];
      };
      const annaMessageId = annaSent.messages[0]!.id;
      const annaRecipientId = annaSent.messages[0]!.recipients[0]!.id;

      const tried = new Set<string>();
      // Sign-out last: every other route is tried in his live session.
      const routes = [...CONSOLE_ROUTES].sort(
        (a, b) => Number(a.path.endsWith('/end')) - Number(b.path.endsWith('/end')),
      );
      for (const route of routes) {
        const id = route.path.startsWith('/api/console/replies')
          ? annaReplyId
          : route.path.startsWith('/api/console/sent/recipients/')
            ? annaRecipientId
            : route.path.startsWith('/api/console/sent/')
              ? annaMessageId
              : annaCodeId;
        const path = route.path.replace(':id', id);
        // Enrolment: Ben names Anna's client; nothing is made, and her code is neither shown nor replaced.
        const enrolBody =
          route.path === '/api/console/contacts'
            ? { address: 'max@example.org' }
            : route.path === '/api/console/contacts/passphrase'
              ? await ownPassphraseBody('max@example.org', 'Bens Passwort für Max!')
              : undefined;
        const res = await consoleFetch(ben, route.method, path, enrolBody);
        const body = await res.text();
        assert.ok(!body.includes('max@example.org'), `${route.method} ${route.path} shows Anna's contact`);
        if (route.role === 'admin') {
          assert.equal(res.status, 403, `${route.method} ${route.path} is the admin's`);
          assert.equal((JSON.parse(body) as { code: string }).code, 'CON_FORBIDDEN');
        } else if (route.path === '/api/console/codes') {
          assert.equal(res.status, 200);
          assert.deepEqual(
            (JSON.parse(body) as { codes: { contact: string }[] }).codes.map((c) => c.contact),
            ['eva@example.org'],
          );
        } else if (route.path === '/api/console/codes/:id/handed-over') {
          assert.equal(res.status, 404, "Ben cannot mark Anna's code handed over");
          assert.equal((JSON.parse(body) as { code: string }).code, 'CON_NOT_FOUND');
        } else if (route.path === '/api/console/session') {
          assert.equal((JSON.parse(body) as { user: { login: string } }).user.login, BEN);
        } else if (route.path === '/api/console/totp/begin') {
          assert.equal(res.status, 200);
          assert.match(
            (JSON.parse(body) as { uri: string }).uri,
            /ben%40praxis\.example/,
            'his own enrolment',
          );
        } else if (route.path === '/api/console/totp/confirm') {
          assert.equal(res.status, 400, 'no code: nothing of anyone changes');
        } else if (route.path === '/api/console/codes/:id/new-code') {
          assert.equal(res.status, 404, "Ben cannot issue a new code for Anna's contact");
          assert.equal((JSON.parse(body) as { code: string }).code, 'CON_NOT_FOUND');
        } else if (route.path === '/api/console/account/password') {
          assert.equal(res.status, 400, 'no passwords, no key: nothing of anyone changes');
        } else if (route.path === '/api/console/sent') {
          assert.equal(res.status, 200);
          const mine = JSON.parse(body) as { messages: { recipients: { address: string }[] }[] };
          assert.deepEqual(
            mine.messages.flatMap((m) => m.recipients.map((r) => r.address)),
            ['eva@example.org'],
            'his own messages only',
          );
        } else if (route.path.startsWith('/api/console/sent/')) {
          assert.equal(res.status, 404, `Ben cannot ${route.method} ${route.path} of Anna's message`);
        } else if (route.path === '/api/console/replies') {
          assert.equal(res.status, 200);
          assert.deepEqual((JSON.parse(body) as { replies: unknown[] }).replies, [], 'none of hers');
        } else if (
          route.path === '/api/console/replies/:id' ||
          route.path === '/api/console/replies/:id/delete'
        ) {
          assert.equal(res.status, 404, "Ben can neither read nor delete Anna's reply");
          assert.equal((JSON.parse(body) as { code: string }).code, 'CON_NOT_FOUND');
        } else if (
          route.path === '/api/console/contacts' ||
          route.path === '/api/console/contacts/passphrase'
        ) {
          assert.equal(res.status, 409, "Ben cannot enrol (and so re-key) Anna's contact");
          assert.equal((JSON.parse(body) as { code: string }).code, 'CON_CONTACT_EXISTS');
        } else if (route.path === '/api/console/session/end') {
          assert.equal(res.status, 200, "Ben's own sign-out");
        }
        tried.add(`${route.method} ${route.path}`);
      }
      assert.equal(tried.size, CONSOLE_ROUTES.length);
      // Anna's code is still there, and still hers; Ben's session is over.
      assert.deepEqual(
        (await consoleCodes(anna)).map((c) => c.id),
        [annaCodeId],
      );
      const kept = (await (await consoleFetch(anna, 'GET', '/api/console/replies')).json()) as {
        replies: { id: string }[];
      };
      assert.deepEqual(
        kept.replies.map((r) => r.id),
        [annaReplyId],
        "Anna's reply is still there",
      );
      assert.equal((await consoleFetch(ben, 'GET', '/api/console/codes')).status, 401);
      // Anna's pickup is neither withdrawn nor touched.
      const after = (await (await consoleFetch(anna, 'GET', '/api/console/sent')).json()) as {
        messages: { recipients: { pickup: { withdrawnAt: string | null } | null }[] }[];
      };
      assert.equal(after.messages[0]!.recipients[0]!.pickup?.withdrawnAt, null);
      // Ben's console key cannot open Anna's code either (it is encrypted to hers alone).
      const ben2: ConsoleSession = await consoleSignIn(stack.web, BEN, BEN_PASSWORD);
      const raw = (await (await consoleFetch(anna, 'GET', '/api/console/codes')).json()) as {
        codes: { ciphertext: string }[];
      };
      const { decryptAndVerify } = await import('../../keys/openpgp/index.ts');
      await assert.rejects(
        decryptAndVerify({
          armored: Buffer.from(raw.codes[0]!.ciphertext, 'base64'),
          decryptionKey: ben2.privateKey,
          verificationKeys: [],
          now: new Date(),
        }),
      );
    });
  });
}

/** The client answers Anna's pickup (no inbound relay: the reply is kept for her console); its id. */
async function replyToAnna(
  stack: Stack,
  msgs: { to: string[]; raw: Buffer }[],
  messageId: string,
): Promise<string> {
  const id = await linkId(msgs.find((m) => m.to[0] === 'max@example.org')!.raw);
  const u = await unlock(stack.web, id, (await consoleCodes(await consoleSignIn(stack.web)))[0]!.code);
  const senders = (await (await api(stack.web, u, '/senders')).json()).senders as { publicKey: string }[];
  const message = await buildReply({
    u,
    senderPublicKey: senders[0]!.publicKey,
    inReplyTo: messageId,
    to: SENDER,
    text: 'Antwort',
  });
  const res = await api(stack.web, u, '/replies', { inReplyTo: id, message });
  assert.equal(res.status, 202);
  await stack.sink.waitFor(3);
  return String((await res.json()).id);
}
