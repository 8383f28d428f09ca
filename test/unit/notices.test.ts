import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { dkimVerify } from 'mailauth';
import { simpleParser } from 'mailparser';
import {
  dkimSignMail,
  encodeText,
  notificationMail,
  receiptMail,
  type Language,
} from '../../keys/notices/index.ts';
import { dkimDomain, dkimResolver } from '../helpers/dkim.ts';
import { tmpDir } from '../helpers/tmp.ts';

const head = {
  from: { name: 'Praxis Anna Berg', address: 'noreply@sealpost.test' },
  to: 'max@example.org',
  messageId: '<n1@sealpost.test>',
  date: new Date('2026-11-23T10:00:00Z'),
};

describe('pickup notices (German default, English)', () => {
  for (const language of ['de', 'en'] as Language[]) {
    it(`notification (${language}): sender name and link, no code`, async () => {
      const raw = notificationMail({
        ...head,
        language,
        senderName: 'Praxis Anna Berg',
        link: 'https://pickup.example/p/AAAAAAAAAAAAAAAAAAAAAA',
        expiresAt: new Date('2026-12-23T10:00:00Z'),
      });
      const m = await simpleParser(raw);
      assert.equal(
        m.subject,
        language === 'de'
          ? 'Vertrauliche Nachricht von Praxis Anna Berg'
          : 'Confidential message from Praxis Anna Berg',
      );
      assert.match(m.text ?? '', /https:\/\/pickup\.example\/p\/AAAAAAAAAAAAAAAAAAAAAA/);
      assert.match(m.text ?? '', language === 'de' ? /23\. Dezember 2026/ : /23 December 2026/);
      assert.equal(m.headers.get('auto-submitted'), 'auto-generated');
    });

    it(`notification (${language}): Reply-To the practitioner, the security word, the operator's lines`, async () => {
      const raw = notificationMail({
        ...head,
        replyTo: 'anna@praxis.example',
        language,
        senderName: 'Praxis Anna Berg',
        link: 'https://pickup.example/p/AAAAAAAAAAAAAAAAAAAAAA',
        expiresAt: new Date('2026-12-23T10:00:00Z'),
        securityWord: 'Sonnenblume',
        practice: { name: 'Praxis Berg', address: 'Lindenstraße 5\r\nBcc: x@y', phone: '+49 221 1' },
      });
      const m = await simpleParser(raw);
      assert.equal(m.replyTo?.value[0]?.address, 'anna@praxis.example');
      const text = m.text ?? '';
      assert.match(text, /Sonnenblume/);
      assert.match(
        text,
        language === 'de' ? /Der Code kommt nie per E-Mail/ : /The code never comes by e-mail/,
      );
      assert.match(text, /^Lindenstraße 5 Bcc: x@y$/m, 'a line break in the address stays in its line');
      assert.match(text, /^\+49 221 1$/m);
    });

    it(`receipt (${language}): recipient, console link, no code, resend list after a new code`, async () => {
      const raw = receiptMail({
        ...head,
        to: 'anna@praxis.example',
        language,
        recipient: 'max@example.org',
        consoleUrl: 'https://pickup.example/console',
        reissued: true,
        stale: [{ messageId: '<old@x>', createdAt: new Date('2026-11-01T09:00:00Z') }],
      });
      const text = (await simpleParser(raw)).text ?? '';
      assert.match(text, /max@example\.org/);
      assert.match(text, /^https:\/\/pickup\.example\/console$/m, 'the console link on a line of its own');
      assert.doesNotMatch(text, /[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}/, 'no access code in the receipt');
      assert.match(text, /<old@x>/);
      assert.match(text, language === 'de' ? /niemals per E-Mail/ : /never by e-mail/);
    });

    it(`receipt (${language}) for a new contact says a new secure contact needs a code`, async () => {
      const raw = receiptMail({
        ...head,
        to: 'anna@praxis.example',
        language,
        recipient: 'max@example.org',
        consoleUrl: 'https://pickup.example/console',
        reissued: false,
      });
      const text = (await simpleParser(raw)).text ?? '';
      assert.match(
        text,
        language === 'de'
          ? /neuer sicherer Kontakt braucht einen Zugangscode/
          : /new secure contact needs an access code/,
      );
      assert.match(text, /https:\/\/pickup\.example\/console/);
      assert.doesNotMatch(text, /Zugangscode: |Access code: /);
    });
  }

  it('encodes non-ASCII subjects as RFC 2047 words of at most 75 characters', async () => {
    const subject = 'Vertrauliche Nachricht von Praxis für Psychotherapie Dr. Müller-Lüdenscheidt';
    const encoded = encodeText(subject);
    for (const word of encoded.split(/\r\n /)) assert.ok(word.length <= 75, word);
    const m = await simpleParser(`Subject: ${encoded}\r\n\r\nx`);
    assert.equal(m.subject, subject);
    assert.equal(encodeText('plain ascii'), 'plain ascii');
  });

  it('DKIM: t= is the signing time read once, so the header written is the header signed', async () => {
    // mailauth, left to read the clock itself, read it for the hashed header and again after the RSA
    // signing for the written one; across a half-second the two t= differed and the signature failed at
    // random. The time is now read once and handed over: the t= written is this one, and it verifies.
    const tmp = tmpDir('sealpost-notices-dkim-');
    try {
      const d = dkimDomain('praxis.example', 'sp2026');
      const keyFile = path.join(tmp.dir, 'dkim.pem');
      writeFileSync(keyFile, d.privateKey, { mode: 0o600 });
      const signedAt = new Date('2026-11-23T10:00:00.700Z'); // rounds up, floors down: either way not now
      const raw = notificationMail({
        ...head,
        language: 'de',
        senderName: 'Praxis Anna Berg',
        link: 'https://pickup.example/p/AAAAAAAAAAAAAAAAAAAAAA',
        expiresAt: new Date('2026-12-23T10:00:00Z'),
      });
      const from = 'noreply@praxis.example';
      const signed = await dkimSignMail({ dkim: { selector: d.selector, keyFile } }, raw, from, signedAt);
      const field = signed.toString('latin1').split('\r\n\r\n')[0]!;
      assert.match(field, new RegExp(`[;\\s]t=${Math.floor(signedAt.getTime() / 1000)};`));
      const result = await dkimVerify(signed, {
        resolver: dkimResolver([d]) as never,
        curTime: new Date(signedAt.getTime() + 60_000),
      });
      assert.equal(result.results[0]?.status.result, 'pass', JSON.stringify(result.results[0]?.status));
      assert.equal(result.results[0]?.signingDomain, 'praxis.example');
    } finally {
      tmp.cleanup();
    }
  });
});
