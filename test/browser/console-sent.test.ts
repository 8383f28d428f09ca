import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import type { EvidenceAnswer } from '../../webmail/contract/console-sent.ts';
import { accessible, newPage, screenshot, unlockInBrowser, withBrowserStack } from '../helpers/browser.ts';
import { consoleCodes, consoleSignIn } from '../helpers/console.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER, SENDER_PASSWORD } from '../helpers/gateway.ts';
import { mailText } from '../helpers/pickup-client.ts';
import type { Stack } from '../helpers/stack.ts';

/**
 * Her sent messages in Chromium through the real stack (docs/console.md "Sent messages"): SMTP to a
 * colleague with a key and to a keyless client → a deep link to /console/sent signs her in and shows the
 * message with its subject (decrypted in her browser), the PGP path with the key's fingerprint, the pickup
 * path, both delivered → the client opens the pickup → withdraw → "first opened" and "withdrawn" on the line,
 * the client's link says "withdrawn by the sender" → the evidence record (page and JSON) matches the sink.
 */
const MAX = 'max@example.org';
const COLLEAGUE = 'kollegin@klinik.example';
const [kind] = testDbKinds();

describe('console in Chromium: sent messages, withdraw, evidence record', function () {
  this.timeout(240_000);
  let browser: Browser;
  let stack: Stack;
  withBrowserStack(
    () => ({ kind: kind! }),
    (env) => ({ browser, stack } = env),
  );

  it('shows each path and state, withdraws a pickup, and prints the evidence the sink agrees with', async () => {
    const colleague = await stack.gw.addRecipient(COLLEAGUE);
    await stack.gw
      .transport()
      .sendMail({ from: SENDER, to: [COLLEAGUE, MAX], subject: 'Befund Müller', text: 'Hallo.' });
    const msgs = await stack.sink.waitFor(3);
    const [code] = await consoleCodes(await consoleSignIn(stack.web));

    const { page, problems, context } = await newPage(browser, { width: 1280 });
    await page.goto(`${stack.web}/console/sent`);
    await page.locator('input[autocomplete="username"]').fill(SENDER);
    await page.locator('input[autocomplete="current-password"]').fill(SENDER_PASSWORD);
    await page.keyboard.press('Enter');
    const message = page.getByTestId('sent-message').first();
    await message.getByText('Befund Müller').waitFor({ timeout: 60_000 });
    const pgpLine = message.getByTestId('sent-recipient').filter({ hasText: COLLEAGUE });
    const pickupLine = message.getByTestId('sent-recipient').filter({ hasText: MAX });
    assert.match(await pgpLine.innerText(), new RegExp(`PGP/MIME[\\s\\S]*${colleague.fingerprint}`, 'i'));
    assert.match(await pickupLine.innerText(), /Sichere Abholung/);
    assert.match(await pickupLine.innerText(), /noch nicht geöffnet/);

    // The client opens the pickup with the code from her console.
    const client = await newPage(browser, { width: 390 });
    const notification = await mailText(msgs.find((m) => m.to[0] === MAX)!.raw);
    const link = /https?:\/\/\S+\/p\/[A-Za-z0-9_-]{22}/.exec(notification.text)![0];
    await unlockInBrowser(client.page, link, code!.code);

    // Withdraw (after a confirmation): the line shows first opened and withdrawn; the link says so.
    page.once('dialog', (d) => void d.accept());
    await pickupLine.getByRole('button', { name: 'Zurückziehen' }).click();
    await pickupLine.getByText(/zurückgezogen/).waitFor();
    const after = await pickupLine.innerText();
    assert.match(after, /zuerst geöffnet/);
    for (const line of [pgpLine, pickupLine]) {
      assert.match(await line.getByTestId('delivery').innerText(), /zugestellt/);
      // The TLS version of the delivery (the sink offers STARTTLS; worker/tls-pool.ts).
      assert.equal(await line.getByTestId('tls').innerText(), 'Verbindung zum Relay: TLSv1.3');
    }
    await screenshot(page, 'console-sent-1280');
    await accessible(page, 'sent');
    await client.page.goto(link);
    await client.page.getByText('Vom Absender zurückgezogen').first().waitFor();
    await client.context.close();

    // The evidence record: the page, then its JSON, against what the sink received.
    await message.getByRole('link', { name: 'Nachweis' }).click();
    const evidence = page.getByTestId('evidence');
    await evidence.getByTestId('evidence-recipient').first().waitFor();
    assert.match(page.url(), /\/console\/sent\/[A-Za-z0-9-]+\/evidence$/);
    assert.doesNotMatch(await evidence.innerText(), /Befund/, 'no subject in the evidence record');
    await screenshot(page, 'console-evidence-1280');
    await accessible(page, 'evidence');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      evidence.getByRole('link', { name: 'Als JSON herunterladen' }).click(),
    ]);
    const record = JSON.parse(await readFile((await download.path())!, 'utf8')) as EvidenceAnswer;
    assert.equal(record.kind, 'sealpost-evidence-record');
    const copy = msgs.find((m) => m.to[0] === COLLEAGUE)!;
    assert.match(copy.raw.toString('latin1'), /multipart\/encrypted/);
    const ePgp = record.recipients.find((r) => r.address === COLLEAGUE)!;
    assert.equal(ePgp.key?.fingerprint, colleague.fingerprint);
    assert.equal(ePgp.delivery.state, 'delivered');
    const ePickup = record.recipients.find((r) => r.address === MAX)!;
    assert.ok(ePickup.pickup?.firstOpenedAt && ePickup.pickup.withdrawnAt);
    assert.ok(!JSON.stringify(record).includes('Befund'));
    assert.deepEqual(problems.errors, []);
    await context.close();
  });
});
