import assert from 'node:assert/strict';
import type { Explanation } from '../../keys/index.ts';
import { ADMIN, ADMIN_PASSWORD, SENDER, startAdminApp, type AdminApp } from '../helpers/admin-api.ts';
import { testDbKinds } from '../helpers/db.ts';

/**
 * The admin API (docs/admin-api.md) through the real app on port 0 and a real database: key changes held
 * by the key store are listed with both fingerprints, approved or rejected once, and explain answers what
 * `sealpost explain` answers. Authentication attacks are in test/security/admin-api-auth.test.ts.
 */
const AS_ADMIN = { auth: [ADMIN, ADMIN_PASSWORD] as [string, string] };
const JSON_POST = { ...AS_ADMIN, headers: { 'content-type': 'application/json' }, body: '{}' };
const COLLEAGUE = 'kollegin@klinik.example';

interface KeyChangeJson {
  id: string;
  address: string;
  oldFingerprint: string;
  newFingerprint: string;
  source: string;
  sourceUrl: string | null;
  status: string;
  createdAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
}

for (const kind of testDbKinds()) {
  describe(`admin API: key changes and explain (${kind})`, function () {
    this.timeout(120_000);
    let a: AdminApp;
    beforeEach(async () => {
      a = await startAdminApp({ kind });
    });
    afterEach(async () => {
      await a.close();
    });

    const list = async (query = '') => {
      const r = await a.request('GET', `/api/admin/key-changes${query}`, AS_ADMIN);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.keyChanges as KeyChangeJson[];
    };

    it('lists a held key change with both fingerprints, its source and no decision', async () => {
      assert.deepEqual(await list(), []);
      const held = await a.holdKeyChange(COLLEAGUE);
      const [change, ...rest] = await list();
      assert.equal(rest.length, 0);
      assert.equal(change!.id, held.id);
      assert.equal(change!.address, COLLEAGUE);
      assert.equal(change!.oldFingerprint, held.oldFingerprint);
      assert.equal(change!.newFingerprint, held.newFingerprint);
      assert.equal(change!.source, 'wkd-advanced');
      assert.equal(change!.sourceUrl, `https://openpgpkey.example/${COLLEAGUE}`);
      assert.equal(change!.status, 'held');
      assert.ok(!Number.isNaN(Date.parse(change!.createdAt)));
      assert.equal(change!.decidedAt, null);
      assert.equal(change!.decidedBy, null);
      assert.deepEqual(await list('?status=held'), [change]);
    });

    it('approves a held change: the new key is used, the change records who decided', async () => {
      const held = await a.holdKeyChange(COLLEAGUE);
      const r = await a.request('POST', `/api/admin/key-changes/${held.id}/approve`, JSON_POST);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const decided = r.body.keyChange as KeyChangeJson;
      assert.equal(decided.status, 'approved');
      assert.equal(decided.decidedBy, `admin-api:${ADMIN}`);
      assert.ok(decided.decidedAt);
      const key = await a.keys.recipientKey(COLLEAGUE);
      assert.equal(key.state === 'usable' && key.fingerprint, held.newFingerprint);
      assert.deepEqual(await list(), [], 'nothing held any more');
      assert.deepEqual(
        (await list('?status=all')).map((c) => [c.id, c.status]),
        [[held.id, 'approved']],
      );
    });

    it('rejects a held change: the old key stays; a second decision is 409, an unknown id 404', async () => {
      const held = await a.holdKeyChange(COLLEAGUE);
      const r = await a.request('POST', `/api/admin/key-changes/${held.id}/reject`, JSON_POST);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal((r.body.keyChange as KeyChangeJson).status, 'rejected');
      const key = await a.keys.recipientKey(COLLEAGUE);
      assert.equal(key.state === 'usable' && key.fingerprint, held.oldFingerprint);
      for (const decision of ['approve', 'reject']) {
        const again = await a.request('POST', `/api/admin/key-changes/${held.id}/${decision}`, JSON_POST);
        assert.equal(again.status, 409);
        assert.equal(again.body.code, 'ADM_NOT_HELD');
      }
      const unknown = '00000000-0000-4000-8000-000000000000';
      const missing = await a.request('POST', `/api/admin/key-changes/${unknown}/approve`, JSON_POST);
      assert.equal(missing.status, 404);
      assert.equal(missing.body.code, 'ADM_NOT_FOUND');
      const malformed = await a.request('POST', '/api/admin/key-changes/not-an-id/approve', JSON_POST);
      assert.equal(malformed.status, 404);
      assert.equal(malformed.body.code, 'ADM_NOT_FOUND');
    });

    it('refuses a decision that is not a JSON POST, or comes from another origin (CSRF)', async () => {
      const held = await a.holdKeyChange(COLLEAGUE);
      const path = `/api/admin/key-changes/${held.id}/approve`;
      const form = await a.request('POST', path, {
        ...AS_ADMIN,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'x=1',
      });
      assert.equal(form.status, 415);
      const foreign = await a.request('POST', path, {
        ...JSON_POST,
        headers: { ...JSON_POST.headers, origin: 'https://evil.example' },
      });
      assert.equal(foreign.status, 403);
      assert.equal((await list())[0]!.status, 'held', 'still undecided');
    });

    it('answers 400 for a bad status filter', async () => {
      const r = await a.request('GET', '/api/admin/key-changes?status=pending', AS_ADMIN);
      assert.equal(r.status, 400);
      assert.equal(r.body.code, 'ADM_BAD_REQUEST');
    });

    it('explains per recipient what would happen now (one or several to=)', async () => {
      const held = await a.holdKeyChange(COLLEAGUE);
      const r = await a.request(
        'GET',
        `/api/admin/explain?from=${encodeURIComponent(SENDER)}&to=${encodeURIComponent(COLLEAGUE)}` +
          `&to=${encodeURIComponent('Neu@Example.org')}`,
        AS_ADMIN,
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const answer = r.body as unknown as Explanation;
      assert.equal(answer.from, SENDER);
      assert.ok(answer.senderKey?.fingerprint);
      assert.deepEqual(
        answer.recipients.map((x) => x.recipient),
        [COLLEAGUE, 'neu@example.org'],
      );
      const colleague = answer.recipients[0]!;
      assert.equal(colleague.verdict, 'pickup', 'the changed key is held: pickup meanwhile');
      assert.equal(colleague.key.state, 'held');
      assert.equal(colleague.key.fingerprint, held.newFingerprint);
      assert.equal(colleague.key.previous, held.oldFingerprint);
      const one = await a.request('GET', `/api/admin/explain?from=${SENDER}&to=neu@example.org`, AS_ADMIN);
      assert.equal(one.status, 200);
      assert.equal((one.body as unknown as Explanation).recipients.length, 1);
    });

    it('validates explain: from and 1–100 addresses', async () => {
      const tos = (n: number) => Array.from({ length: n }, (_, i) => `to=r${i}@example.org`).join('&');
      for (const query of [
        `to=a@example.org`,
        `from=${SENDER}`,
        `from=not-an-address&to=a@example.org`,
        `from=${SENDER}&to=not-an-address`,
        `from=${SENDER}&${tos(101)}`,
        `from=${SENDER}&to=a@example.org&extra=1`,
      ]) {
        const r = await a.request('GET', `/api/admin/explain?${query}`, AS_ADMIN);
        assert.equal(r.status, 400, query);
        assert.equal(r.body.code, 'ADM_BAD_REQUEST', query);
      }
      const hundred = await a.request('GET', `/api/admin/explain?from=${SENDER}&${tos(100)}`, AS_ADMIN);
      assert.equal(hundred.status, 200);
      assert.equal((hundred.body as unknown as Explanation).recipients.length, 100);
    });
  });
}

describe('admin API: explain before the composition root wires it', function () {
  this.timeout(60_000);
  it('answers 503 ADM_UNAVAILABLE', async () => {
    const a = await startAdminApp({ kind: 'sqlite', explain: false });
    try {
      const r = await a.request('GET', `/api/admin/explain?from=${SENDER}&to=a@example.org`, AS_ADMIN);
      assert.equal(r.status, 503);
      assert.equal(r.body.code, 'ADM_UNAVAILABLE');
    } finally {
      await a.close();
    }
  });
});
