import assert from 'node:assert/strict';
import { CONSOLE_ROUTES } from '../../webmail/console-api/table.ts';
import { generateKeyPair } from '../../keys/openpgp/index.ts';
import { consoleFetch } from '../helpers/console.ts';
import { adminEnrol } from '../helpers/console-admin.ts';
import { SENDER } from '../helpers/gateway.ts';
import { testDbKinds } from '../helpers/db.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * Every mutating admin row of the console's route table (CONSOLE_ROUTES, generated: a new one without a
 * case here fails) writes one audit entry when it succeeds: who (the admin), what, on what, from which IP
 * — never a password or a link (docs/console.md).
 */
const ADMIN = 'admin@praxis.example';
const ADMIN_PASSWORD = 'admin-password-long';
const BEN = 'ben@praxis.example';
const MAX = 'max@example.org';

/** A request that succeeds, per mutating admin route, in this order. */
const CASES: Record<string, unknown> = {
  '/api/console/users': { login: 'carl@praxis.example', admin: false },
  '/api/console/users/disabled': { login: BEN, on: true },
  '/api/console/users/admin': { login: BEN, on: true },
  '/api/console/users/password': { login: BEN, password: 'ben-new-password' },
  '/api/console/users/totp-reset': { login: BEN },
  '/api/console/users/addresses': { login: BEN, address: 'empfang@praxis.example' },
  '/api/console/users/addresses/remove': { login: BEN, address: 'empfang@praxis.example' },
  // The pickup contact a mail to MAX made (below); the erasure comes last.
  '/api/console/policy': { match: 'blocked.example', action: 'reject', note: 'Portal', reason: 'Test' },
  '/api/console/policy/remove': { match: 'blocked.example' },
  '/api/console/policy/explain': { from: SENDER, to: MAX },
  // A setting changed (audited old -> new), then back to the configuration's value.
  '/api/console/settings': { key: 'retentionDays', value: '14' },
  '/api/console/settings/reset': { key: 'retentionDays' },
  '/api/console/contacts/unlock': { address: MAX },
  '/api/console/contacts/new-code': { address: MAX },
  '/api/console/contacts/delete': { address: MAX },
  // Ben has no sender key yet: generate, then rotate (the earlier key kept); revoke is prepared below.
  '/api/console/sender-keys/generate': { address: BEN },
  '/api/console/sender-keys/rotate': { address: BEN },
};

/**
 * Routes whose successful request needs data made first (a held key change, a key to import): the path to
 * POST (with the :id filled in) and the body.
 */
const PREPARED: Record<string, (stack: Stack) => Promise<{ path: string; body: unknown }>> = {
  '/api/console/queue/:id/retry': async (stack) => ({
    path: `/api/console/queue/${await deferredRow(stack)}/retry`,
    body: {},
  }),
  '/api/console/queue/:id/cancel': async (stack) => ({
    path: `/api/console/queue/${await deferredRow(stack)}/cancel`,
    body: {},
  }),
  '/api/console/keys/import': async (stack) => {
    const pair = await generateKeyPair({ address: 'eva@example.org', now: stack.gw.deps.clock.now() });
    return { path: '/api/console/keys/import', body: { armored: pair.publicKey } };
  },
  '/api/console/keys/pin': async (stack) => ({
    path: '/api/console/keys/pin',
    body: await discoveredKey(stack, 'olga@example.org'),
  }),
  '/api/console/keys/drop': async (stack) => ({
    path: '/api/console/keys/drop',
    body: await discoveredKey(stack, 'paul@example.org'),
  }),
  '/api/console/sender-keys/import': async (stack) => {
    const pair = await generateKeyPair({ address: 'carl@praxis.example', now: stack.gw.deps.clock.now() });
    return { path: '/api/console/sender-keys/import', body: { armored: pair.privateKey } };
  },
  '/api/console/sender-keys/revoke': async (stack) => {
    const ben = await stack.gw.keys.senderKey(BEN);
    return { path: '/api/console/sender-keys/revoke', body: { fingerprint: ben!.signer.fingerprint } };
  },
  '/api/console/keys/changes/:id/approve': async (stack) => ({
    path: `/api/console/keys/changes/${await holdKeyChange(stack, 'karl@kanzlei.example')}/approve`,
    body: {},
  }),
  '/api/console/keys/changes/:id/reject': async (stack) => ({
    path: `/api/console/keys/changes/${await holdKeyChange(stack, 'lena@kanzlei.example')}/reject`,
    body: {},
  }),
};

const used = new Set<string>();

/** A copy the relay deferred (a mail to MAX while the sink answers 451), not used by an earlier case. */
async function deferredRow(stack: Stack): Promise<string> {
  stack.sink.failNext({ code: 451, message: '4.3.0 Try again later' }, 5);
  await stack.gw.transport().sendMail({ from: SENDER, to: MAX, subject: 'y', text: 'y' });
  for (let i = 0; i < 600; i++) {
    const rows = await stack.gw.testDb.db.kysely
      .selectFrom('outbound')
      .select('id')
      .where('status', '=', 'queued')
      .where('attempts', '>', 0)
      .execute();
    const row = rows.find((r) => !used.has(r.id));
    if (row) {
      used.add(row.id);
      return row.id;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no deferred copy');
}

/** A key discovery found for `address` (VKS): the body of a pin or drop request. */
async function discoveredKey(
  stack: Stack,
  address: string,
): Promise<{ address: string; fingerprint: string }> {
  const { publicKey } = await generateKeyPair({ address, now: stack.gw.deps.clock.now() });
  const r = await stack.gw.keys.recordFetched({
    address,
    key: publicKey,
    source: 'vks',
    sourceUrl: 'https://vks',
  });
  return { address, fingerprint: r.fingerprint };
}

/** A key change held for the admin: `address` had a WKD key, the directory now serves another. */
async function holdKeyChange(stack: Stack, address: string): Promise<string> {
  const now = stack.gw.deps.clock.now();
  const sourceUrl = `https://openpgpkey.example/${address}`;
  for (let i = 0; ; i++) {
    const { publicKey } = await generateKeyPair({ address, now });
    const r = await stack.gw.keys.recordFetched({
      address,
      key: publicKey,
      source: 'wkd-advanced',
      sourceUrl,
    });
    if (i > 0 && r.changeId) return r.changeId;
    if (i > 0) throw new Error(`expected a held change, got ${r.outcome}`);
  }
}

for (const kind of testDbKinds()) {
  describe(`security: console, every admin action is audited (${kind})`, function () {
    this.timeout(120_000);
    let stack: Stack;
    beforeEach(async () => {
      stack = await startStack({ kind });
    });
    afterEach(async () => {
      await stack.close();
    });

    it('writes one content-free audit entry per mutating admin route', async () => {
      await stack.gw.users.add({ login: ADMIN, password: ADMIN_PASSWORD, isAdmin: true }, new Date());
      await stack.gw.users.add({ login: BEN, password: 'ben-password-long' }, new Date());
      const { session } = await adminEnrol(stack.web, ADMIN, ADMIN_PASSWORD);
      await stack.gw.transport().sendMail({ from: SENDER, to: MAX, subject: 'x', text: 'x' });
      const db = stack.gw.testDb.db.kysely;
      const mutating = CONSOLE_ROUTES.filter((r) => r.role === 'admin' && r.method === 'POST');
      for (const route of mutating) {
        const prepare = PREPARED[route.path];
        assert.ok(route.path in CASES || prepare, `${route.path}: add a case to this test`);
        const { path, body } = prepare ? await prepare(stack) : { path: route.path, body: CASES[route.path] };
        const before = await db.selectFrom('audit').selectAll().orderBy('id').execute();
        const res = await consoleFetch(session, 'POST', path, body);
        const text = await res.text();
        assert.equal(res.status, 200, `${route.path}: ${text}`);
        const after = await db.selectFrom('audit').selectAll().orderBy('id').execute();
        const added = after.slice(before.length);
        assert.equal(added.length, 1, `${route.path} writes one audit entry`);
        const entry = added[0]!;
        assert.equal(entry.actor, ADMIN);
        assert.ok(entry.ip, 'with the IP');
        const flat = JSON.stringify(entry);
        assert.ok(!flat.includes('ben-new-password') && !flat.includes('set-password'), 'no secret');
      }
      assert.ok(mutating.length >= 7);
    });
  });
}
