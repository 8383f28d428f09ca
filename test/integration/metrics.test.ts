import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Metrics } from '../../core/metrics.ts';
import { SENDER, startTestGateway } from '../helpers/gateway.ts';
import { testDbKinds } from '../helpers/db.ts';
import { until } from '../helpers/lifecycle.ts';
import { getText, samples, value } from '../helpers/metrics.ts';
import { linkId, postUnlock } from '../helpers/pickup-client.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * The Prometheus metrics of a process count what happened in it: one message with a key-holding and a
 * keyless recipient is one accepted message (pgp 1, pickup 1) with one end-of-DATA→250 observation, its
 * three copies (the PGP/MIME copy, the notification, the receipt) are three deliveries, the spool is empty
 * again, and a wrong access code is one failed unlock. No label carries an address, a name, a subject or an
 * id: only the closed lists of core/metrics.ts.
 */
const COLLEAGUE = 'dr.weber@klinik.example';
const CLIENT = 'max.mustermann@example.org';
const SUBJECT = 'Befund Mustermann vertraulich';
const ALLOWED_LABELS = new Set(['verdict', 'outcome', 'result', 'task', 'le']);

for (const kind of testDbKinds()) {
  describe(`metrics: /metrics counts a sent message, without addresses (${kind})`, function () {
    this.timeout(120_000);
    let stack: Stack;
    beforeEach(async () => {
      stack = await startStack({ kind });
    });
    afterEach(async () => {
      await stack.close();
    });

    const scrape = async () => {
      const res = await getText(Number(new URL(stack.web).port), '/metrics');
      assert.equal(res.status, 200);
      return res.text;
    };

    it('counts the message, its recipients by verdict, its deliveries and a wrong code', async () => {
      const before = await scrape();
      assert.equal(value(before, 'sealpost_messages_accepted_total'), 0);
      assert.equal(value(before, 'sealpost_queue_depth'), 0);
      await stack.gw.addRecipient(COLLEAGUE);
      const info = await stack.gw
        .transport()
        .sendMail({ from: SENDER, to: [COLLEAGUE, CLIENT], subject: SUBJECT, text: 'Der Befund.' });
      assert.match(String(info.response), /^250 /);
      const msgs = await stack.sink.waitFor(3);
      await until('three deliveries counted', async () => {
        const text = await scrape();
        return value(text, 'sealpost_deliveries_total', { outcome: 'delivered' }) === 3;
      });
      const notification = msgs.find((m) => m.to[0] === CLIENT)!;
      const wrong = await postUnlock(stack.web, await linkId(notification.raw), randomBytes(32));
      assert.equal(wrong.status, 401);

      const text = await scrape();
      assert.equal(value(text, 'sealpost_messages_accepted_total'), 1);
      assert.equal(value(text, 'sealpost_recipients_accepted_total', { verdict: 'pgp' }), 1);
      assert.equal(value(text, 'sealpost_recipients_accepted_total', { verdict: 'pickup' }), 1);
      assert.equal(value(text, 'sealpost_recipients_accepted_total', { verdict: 'plain' }), 0);
      assert.equal(value(text, 'sealpost_smtp_data_to_reply_seconds_count'), 1);
      assert.ok(value(text, 'sealpost_smtp_data_to_reply_seconds_sum')! > 0);
      assert.equal(value(text, 'sealpost_deliveries_total', { outcome: 'bounced' }), 0);
      assert.equal(value(text, 'sealpost_pickup_unlocks_total', { result: 'wrong_code' }), 1);
      assert.equal(value(text, 'sealpost_pickup_unlocks_total', { result: 'unlocked' }), 0);
      assert.equal(value(text, 'sealpost_queue_depth'), 0);
      assert.equal(value(text, 'sealpost_queue_oldest_waiting_seconds'), 0);

      for (const s of samples(text)) {
        for (const [label, v] of Object.entries(s.labels)) {
          assert.ok(ALLOWED_LABELS.has(label), `label ${label} of ${s.name}`);
          assert.match(v, /^[a-z0-9_.+-]+$|^\+Inf$/, `${s.name}{${label}="${v}"}`);
        }
      }
      for (const secret of [COLLEAGUE, CLIENT, SENDER, SUBJECT, '@', 'klinik', 'praxis', 'Mustermann']) {
        assert.ok(!text.includes(secret), `the metrics name ${secret}`);
      }
    });
  });

  describe(`metrics: the spool gauges (${kind})`, function () {
    this.timeout(60_000);
    it('reads the queue depth and the age of the oldest waiting copy from the spool', async () => {
      // A gateway without a worker: what it accepts stays queued in the database.
      const gw = await startTestGateway({ kind });
      try {
        await gw.addRecipient(COLLEAGUE);
        for (let i = 0; i < 2; i++) {
          await gw.transport().sendMail({ from: SENDER, to: COLLEAGUE, subject: SUBJECT, text: `Nr. ${i}` });
        }
        const oldest = Math.min(...(await gw.outbound()).map((r) => Number(r.created_at)));
        const metrics = new Metrics();
        metrics.spoolGauges(
          () => gw.deps.db.stores.outbound.waiting(),
          () => oldest + 90_000,
        );
        const text = await metrics.text();
        assert.equal(value(text, 'sealpost_queue_depth'), 2);
        assert.equal(value(text, 'sealpost_queue_oldest_waiting_seconds'), 90);
        // A read that fails (the database away) makes the gauges NaN; the scrape itself still answers.
        const away = new Metrics();
        away.spoolGauges(
          () => Promise.reject(new Error('database away')),
          () => oldest,
        );
        assert.ok(Number.isNaN(value(await away.text(), 'sealpost_queue_depth')));
      } finally {
        await gw.close();
      }
    });
  });
}
