import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { simpleParser } from 'mailparser';
import type { Browser } from 'playwright-core';
import type { EvidenceAnswer } from '../../webmail/contract/console-sent.ts';
import { newPage, unlockInBrowser, withBrowserStack } from '../helpers/browser.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER, SENDER_PASSWORD } from '../helpers/gateway.ts';
import { mailText } from '../helpers/pickup-client.ts';
import { startSink, type Sink } from '../helpers/sink.ts';
import type { Stack } from '../helpers/stack.ts';

/**
 * Issue 13's walk, in one Chromium session against the real stack with the practice's own mail server
 * (SEALPOST_INBOUND_RELAY) set: SMTP to a keyless client → the receipt at the sink has no code and links to
 * the console → she signs in → the code is on the first screen → the client opens the pickup with it →
 * "first opened" on her sent list → the client replies → the reply reaches the practice server decrypted,
 * `signature=valid` → she withdraws the pickup → the client's link says "withdrawn" → the evidence record
 * matches what the sink received. The screens' details (widths, axe, screenshots) are in the tests of each
 * screen; replies read in the console without a practice server are in console-replies.test.ts.
 */
const MAX = 'max@example.org';
const CODE = /[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}/;
const REPLY = 'Walk-9c21: Danke, bis Dienstag.';
const [kind] = testDbKinds();

describe('console in Chromium: the whole walk of issue 13 (with a practice mail server)', function () {
  this.timeout(240_000);
  let browser: Browser;
  let stack: Stack;
  let practice: Sink;
  before(async () => {
    practice = await startSink();
  });
  after(async () => {
    await practice.close();
  });
  withBrowserStack(
    () => ({ kind: kind!, config: { inboundRelay: practice.relayUrl } }),
    (env) => ({ browser, stack } = env),
  );

  it('receipt → code → pickup → first opened → reply at the practice → withdraw → evidence', async () => {
    await stack.gw.transport().sendMail({ from: SENDER, to: MAX, subject: 'Befund', text: 'Hallo.' });
    const msgs = await stack.sink.waitFor(2);
    const receipt = await mailText(msgs.find((m) => m.to[0] === SENDER)!.raw);
    assert.doesNotMatch(receipt.text, CODE, 'no access code in the receipt');
    assert.match(receipt.text, new RegExp(`^${stack.web}/console$`, 'm'), 'the receipt links to the console');

    // She signs in: the code is on the first screen, on the contact's line.
    const { page, problems, context } = await newPage(browser, { width: 1280 });
    await page.goto(`${stack.web}/console`);
    await page.locator('input[autocomplete="username"]').fill(SENDER);
    await page.locator('input[autocomplete="current-password"]').fill(SENDER_PASSWORD);
    await page.keyboard.press('Enter');
    const codeLine = page.locator('[data-testid="code-line"]', { hasText: MAX });
    await codeLine.waitFor({ timeout: 60_000 });
    const code = CODE.exec(await codeLine.innerText())?.[0];
    assert.ok(code, 'the code is on the line with the contact');

    // The client opens the pickup with it; she marks the code handed over.
    const client = await newPage(browser, { width: 390 });
    const notification = await mailText(msgs.find((m) => m.to[0] === MAX)!.raw);
    const link = /https?:\/\/\S+\/p\/[A-Za-z0-9_-]{22}/.exec(notification.text)![0];
    await unlockInBrowser(client.page, link, code);
    await codeLine.getByRole('button', { name: 'Weitergegeben' }).click();
    await page.getByTestId('no-codes').waitFor();

    // "First opened" on her sent list.
    await page.getByRole('link', { name: 'Gesendet' }).click();
    const pickupLine = page
      .getByTestId('sent-message')
      .first()
      .getByTestId('sent-recipient')
      .filter({ hasText: MAX });
    await pickupLine.getByText(/zuerst geöffnet/).waitFor({ timeout: 60_000 });

    // The client replies; the practice's server receives it decrypted, with the verdict.
    await client.page.getByRole('button', { name: 'Antworten' }).click();
    await client.page.getByLabel('Ihre Antwort').fill(REPLY);
    await client.page.getByRole('button', { name: 'Verschlüsselt senden' }).click();
    await client.page.locator('[data-testid="reply-status"][data-outcome="sent"]').waitFor();
    const [atPractice] = await practice.waitFor(1);
    const raw = atPractice!.raw.toString('utf8');
    assert.match(raw, /^Sealpost-Security: decrypted; signature=valid; signer=max@example\.org; /m);
    assert.ok((await simpleParser(atPractice!.raw)).text?.includes(REPLY), 'decrypted for the practice');
    await page.getByRole('link', { name: 'Zugangscodes' }).click();
    await page.getByTestId('no-codes').waitFor();
    await page.getByRole('link', { name: 'Gesendet' }).click();
    await pickupLine.getByText(/Antworten: 1/).waitFor({ timeout: 60_000 });

    // She withdraws the pickup; the client's link says so.
    page.once('dialog', (d) => void d.accept());
    await pickupLine.getByRole('button', { name: 'Zurückziehen' }).click();
    await pickupLine.getByText(/zurückgezogen/).waitFor();
    await client.page.goto(link);
    await client.page.getByText('Vom Absender zurückgezogen').first().waitFor();
    await client.context.close();

    // The evidence record against what the sink received: the notification was delivered, nothing more.
    await page.getByTestId('sent-message').first().getByRole('link', { name: 'Nachweis' }).click();
    const evidence = page.getByTestId('evidence');
    await evidence.getByTestId('evidence-recipient').first().waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      evidence.getByRole('link', { name: 'Als JSON herunterladen' }).click(),
    ]);
    const record = JSON.parse(await readFile((await download.path())!, 'utf8')) as EvidenceAnswer;
    const line = record.recipients.find((r) => r.address === MAX);
    assert.ok(line, 'the client in the record');
    assert.equal(record.message.sender, SENDER);
    assert.equal(line.path, 'pickup');
    assert.equal(line.delivery.state, 'delivered');
    assert.match(line.delivery.reply ?? '', /^250\b/, 'the sink’s reply to the notification');
    assert.equal(msgs.filter((m) => m.to[0] === MAX).length, 1, 'one notification reached the sink');
    assert.ok(line.pickup?.firstOpenedAt && line.pickup.withdrawnAt, 'first opened and withdrawn');
    assert.ok(!JSON.stringify(record).includes('Befund'), 'no subject in the record');
    assert.deepEqual(problems.errors, []);
    await context.close();
  });
});
