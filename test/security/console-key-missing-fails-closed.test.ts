import assert from 'node:assert/strict';
import { testDbKinds } from '../helpers/db.ts';
import { replyCode, SENDER, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

/**
 * Fail closed (invariant 1, docs/console.md): a new pickup contact's code is kept only encrypted to the
 * sender's console key. Should she have none when the message comes (the key could not be made at her
 * login), the message is refused with a temporary 451 GW_CONSOLE_KEY_MISSING — no contact, no pickup, no
 * code anywhere — and her next login makes the key, so the client's retry goes through.
 */
const [kind] = testDbKinds();
const MAX = 'max@example.org';
const RAW = `From: ${SENDER}\r\nTo: ${MAX}\r\nSubject: S\r\n\r\nT\r\n`;

describe('security: no console key, no new contact (fail closed)', function () {
  this.timeout(120_000);
  let gw: TestGateway;
  beforeEach(async () => {
    gw = await startTestGateway({ kind: kind! });
  });
  afterEach(async () => {
    await gw.close();
  });

  it('refuses 451 without her console key, and takes the retry after a login', async () => {
    const session = await gw.session();
    await session.login(); // makes her console key …
    const { db } = gw.testDb;
    await gw.testDb.db.stores.console.dropKey((await gw.users.find(SENDER))!.id); // … which then is gone
    await assert.rejects(session.send({ from: SENDER, to: [MAX] }, RAW), (err: { response?: string }) => {
      assert.equal(replyCode(err.response), 'GW_CONSOLE_KEY_MISSING');
      assert.match(err.response ?? '', /^451 /);
      return true;
    });
    session.close();
    assert.equal((await db.kysely.selectFrom('contacts').selectAll().execute()).length, 0, 'no contact');
    assert.equal((await db.kysely.selectFrom('pickups').selectAll().execute()).length, 0, 'no pickup');
    assert.equal((await db.kysely.selectFrom('outbound').selectAll().execute()).length, 0, 'nothing queued');

    const info = await gw.transport().sendMail({ from: SENDER, to: MAX, subject: 'S', text: 'T' });
    assert.match(String(info.response), /^250 /);
    assert.equal((await db.kysely.selectFrom('console_codes').selectAll().execute()).length, 1);
  });
});
