import assert from 'node:assert/strict';
import { systemClock } from '../../core/clock.ts';
import { parseConfig } from '../../core/config.ts';
import { discoverySettings, KeyDiscovery } from '../../keys/discovery/index.ts';
import { testDbKinds } from '../helpers/db.ts';
import { replyCode, SENDER, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import {
  generateTestCa,
  startKeyDirectory,
  type Behaviour,
  type KeyDirectory,
} from '../helpers/key-directory.ts';
import { freshKeyPair } from '../helpers/keys.ts';
import { captureLog } from '../helpers/log.ts';

/**
 * Invariant 1, fail closed, for key discovery: whatever a key directory does — fail, stall, serve garbage,
 * a huge body, a key for someone else, a certificate from a CA we do not trust — the recipient gets an
 * encrypted pickup or a 4xx, never a clear copy; and a slow directory does not hold up other sessions.
 */
const DOMAIN = 'kollege.example';
const ADDR = `dr.weber@${DOMAIN}`;
const PINNED = 'pinned@praxis-partner.example';

for (const kind of testDbKinds()) {
  describe(`security: fail closed under a misbehaving key directory (${kind})`, function () {
    this.timeout(60_000);
    let dir: KeyDirectory;
    let gw: TestGateway | undefined;

    beforeEach(async () => {
      dir = await startKeyDirectory({ domains: [DOMAIN] });
    });
    afterEach(async () => {
      await gw?.close();
      gw = undefined;
      await dir.close();
    });

    async function gateway(
      options: {
        onTimeout?: 'defer' | 'pickup';
        ca?: string;
        budgetMs?: number;
        sourceTimeoutMs?: number;
      } = {},
    ) {
      const discovery = {
        vksUrl: dir.vksUrl,
        sourceTimeoutMs: options.sourceTimeoutMs ?? 400,
        budgetMs: options.budgetMs ?? 1500,
        onTimeout: options.onTimeout ?? 'defer',
      };
      const settings = discoverySettings(parseConfig({ discovery }).discovery);
      const net = options.ca ? { ...dir.net, ca: options.ca } : dir.net;
      gw = await startTestGateway({
        kind,
        config: { discovery },
        discovery: new KeyDiscovery({ settings, clock: systemClock, log: captureLog().log, net }),
      });
      return gw;
    }

    async function outcome(g: TestGateway): Promise<string> {
      try {
        await g.transport().sendMail({ from: SENDER, to: ADDR, subject: 'Befund', text: 'vertraulich' });
      } catch (err) {
        return `refused:${replyCode((err as { response?: string }).response) ?? '?'}`;
      }
      const rows = (await g.outbound()).filter((r) => r.recipient === ADDR);
      assert.equal(rows.length, 1);
      return rows[0]!.kind;
    }

    const broken: [string, Behaviour][] = [
      ['HTTP 500', { status: 500 }],
      ['garbage bytes', { body: 'this is not an OpenPGP key' }],
      ['a body over the size limit', { body: new Uint8Array(2 * 1024 * 1024).fill(0x99), chunked: true }],
      ['a stall past the budget', { delayMs: 10_000 }],
    ];
    for (const [name, behaviour] of broken) {
      it(`${name}: pickup or 451, never clear`, async () => {
        dir.setBehaviour('*', 'all', behaviour);
        const g = await gateway({ onTimeout: 'pickup' });
        const got = await outcome(g);
        assert.ok(['notification', 'refused:GW_KEY_LOOKUP_TIMEOUT'].includes(got), got);
      });
    }

    it('a key for someone else (foreign User ID only) is never used', async () => {
      const other = await freshKeyPair('attacker@evil.example', new Date());
      dir.publishWkd(ADDR, other.publicKey);
      dir.setVks(ADDR, other.publicKey);
      const g = await gateway();
      assert.equal(await outcome(g), 'notification');
      assert.equal(
        (await g.testDb.db.kysely.selectFrom('recipient_keys').selectAll().execute()).length,
        0,
        'nothing stored',
      );
    });

    it('a certificate from a CA we do not trust: the directory is not believed', async () => {
      const real = await freshKeyPair(ADDR, new Date());
      dir.publishWkd(ADDR, real.publicKey);
      const g = await gateway({ ca: (await generateTestCa()).cert, onTimeout: 'defer' });
      const got = await outcome(g);
      assert.notEqual(got, 'pgp');
      assert.ok(['notification', 'refused:GW_KEY_LOOKUP_TIMEOUT'].includes(got), got);
    });

    it('a stalled directory does not hold up another session', async () => {
      dir.setBehaviour('*', 'all', { delayMs: 20_000 });
      const g = await gateway({ budgetMs: 8000, sourceTimeoutMs: 8000 });
      await g.addRecipient(PINNED);
      const order: string[] = [];
      const slow = outcome(g).then((r) => order.push(`slow:${r}`));
      await new Promise((r) => setTimeout(r, 200));
      await g
        .transport()
        .sendMail({ from: SENDER, to: PINNED, subject: 's', text: 't' })
        .then(() => order.push('fast'));
      await slow;
      assert.equal(order[0], 'fast', `order: ${order.join(', ')}`);
      assert.equal(order[1], 'slow:refused:GW_KEY_LOOKUP_TIMEOUT');
    });
  });
}
