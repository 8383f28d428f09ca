import assert from 'node:assert/strict';
import {
  deriveKeys,
  lockPrivateKey,
  newKdf,
  unlockPrivateKey,
  type KdfParams,
} from '../../keys/access-code.ts';
import { MIN_PASSWORD_LENGTH } from '../../core/users.ts';
import { MIN_NEW_PASSWORD } from '../../webmail/contract/console-account.ts';
import { consoleCodes, consoleFetch, consoleSignIn } from '../helpers/console.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER, SENDER_PASSWORD } from '../helpers/gateway.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * A password change in the console re-locks her console key (docs/console.md): afterwards the old password
 * neither signs in nor opens the stored lock, the new one opens the SAME key (her codes stay readable); a
 * wrong current password, a key that is not hers, or a short password change nothing; her other sessions
 * end. Done from Node as her browser does it (Argon2id, AES-256-GCM re-lock; the server never gets the key).
 */
const NEW = 'ein-neues-langes-passwort';

interface SignedIn {
  web: string;
  cookie: string;
  key: string;
  fingerprint: string;
  lockId: string;
  locked: Buffer;
  kdf: KdfParams;
}

async function rawSignIn(web: string, password: string): Promise<Response> {
  return fetch(`${web}/api/console/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: SENDER, password }),
  });
}

async function signIn(web: string, password: string): Promise<SignedIn> {
  const res = await rawSignIn(web, password);
  assert.equal(res.status, 200);
  const body = (await res.json()) as {
    session: { key: string };
    consoleKey: { lockId: string; fingerprint: string; lockedPrivateKey: string; kdf: KdfParams };
  };
  return {
    web,
    cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]!,
    key: body.session.key,
    fingerprint: body.consoleKey.fingerprint,
    lockId: body.consoleKey.lockId,
    locked: Buffer.from(body.consoleKey.lockedPrivateKey, 'base64'),
    kdf: body.consoleKey.kdf,
  };
}

/** What her browser sends: the same private key, locked under Argon2id(new password) with a new salt. */
async function relocked(s: SignedIn, oldPassword: string, newPassword: string) {
  const plain = unlockPrivateKey(s.locked, (await deriveKeys(oldPassword, s.kdf)).lockKey, s.lockId);
  const kdf = newKdf();
  const locked = lockPrivateKey(plain, (await deriveKeys(newPassword, kdf)).lockKey, s.lockId);
  return { plain, body: { fingerprint: s.fingerprint, lockedPrivateKey: locked.toString('base64'), kdf } };
}

for (const kind of testDbKinds()) {
  describe(`security: a password change re-locks the console key (${kind})`, function () {
    this.timeout(120_000);
    let stack: Stack;
    beforeEach(async () => {
      stack = await startStack({ kind });
    });
    afterEach(async () => {
      await stack.close();
    });

    it('the old password no longer signs in nor unlocks; the new one opens the same key', async () => {
      assert.equal(MIN_NEW_PASSWORD, MIN_PASSWORD_LENGTH, "the app's minimum is user add's");
      await stack.gw.transport().sendMail({ from: SENDER, to: 'max@example.org', subject: 'S', text: 'T' });
      await stack.sink.waitFor(2);
      const codeBefore = (await consoleCodes(await consoleSignIn(stack.web)))[0]!.code;
      const s = await signIn(stack.web, SENDER_PASSWORD);
      const other = await signIn(stack.web, SENDER_PASSWORD);
      const { plain, body } = await relocked(s, SENDER_PASSWORD, NEW);

      const change = (b: object) => consoleFetch(s, 'POST', '/api/console/account/password', b);
      const wrong = await change({ oldPassword: 'not-her-password', newPassword: NEW, consoleKey: body });
      assert.equal(wrong.status, 403);
      const short = await change({ oldPassword: SENDER_PASSWORD, newPassword: 'kurz', consoleKey: body });
      assert.equal(short.status, 400);
      const notHers = await change({
        oldPassword: SENDER_PASSWORD,
        newPassword: NEW,
        consoleKey: { ...body, fingerprint: 'A'.repeat(40) },
      });
      assert.equal(notHers.status, 409);
      assert.equal((await rawSignIn(stack.web, SENDER_PASSWORD)).status, 200, 'nothing changed so far');

      const ok = await change({ oldPassword: SENDER_PASSWORD, newPassword: NEW, consoleKey: body });
      assert.equal(ok.status, 200);
      assert.equal((await rawSignIn(stack.web, SENDER_PASSWORD)).status, 401, 'the old password is gone');
      assert.equal(
        (await consoleFetch(other, 'GET', '/api/console/codes')).status,
        401,
        'other session ended',
      );
      assert.equal((await consoleFetch(s, 'GET', '/api/console/codes')).status, 200, 'this session stays');

      const after = await signIn(stack.web, NEW);
      assert.equal(after.fingerprint, s.fingerprint, 'the same key');
      assert.throws(() => unlockPrivateKey(after.locked, Buffer.alloc(32), after.lockId));
      const oldLock = (await deriveKeys(SENDER_PASSWORD, after.kdf)).lockKey;
      assert.throws(
        () => unlockPrivateKey(after.locked, oldLock, after.lockId),
        'old password cannot unlock',
      );
      const newLock = (await deriveKeys(NEW, after.kdf)).lockKey;
      assert.deepEqual(unlockPrivateKey(after.locked, newLock, after.lockId), plain);
      const row = await stack.gw.testDb.db.stores.console.keyOf((await stack.gw.users.find(SENDER))!.id);
      assert.ok(!Buffer.from(row!.locked_private_key).includes(plain.subarray(-32)), 'not stored unlocked');
      const codes = await consoleCodes(await consoleSignIn(stack.web, SENDER, NEW));
      assert.deepEqual(
        codes.map((c) => c.code),
        [codeBefore],
        'her code is still readable',
      );
    });
  });
}
