import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { parseConfig } from '../../core/config.ts';
import { notificationMail, receiptMail } from '../../keys/notices/index.ts';

/**
 * The neighbours of header smuggling among the mails Sealpost writes itself (issue 11, finding 3): every
 * value that reaches one of their header fields from outside the code — a sender's display name (set by
 * the admin, shown in the notification's From and Subject), a contact's address, the host name from the
 * configuration — can start no field of its own: names are quoted or encoded, addresses were checked at
 * RCPT, and a host name with anything but letters, digits, dots and hyphens is refused at start.
 */
const HOSTILE_NAME = 'Dr. Anna\r\nBcc: spy@evil.example\r\nX-Injected: y';

describe('security: header fields Sealpost writes cannot be split by the values in them', () => {
  it('a display name with CR LF stays inside the From and Subject of a notification and a receipt', async () => {
    const head = {
      language: 'de' as const,
      from: { name: HOSTILE_NAME, address: 'noreply@sealpost.test' },
      to: 'max@example.org',
      messageId: '<n1@sealpost.test>',
      date: new Date('2026-11-23T10:00:00Z'),
    };
    const notification = notificationMail({
      ...head,
      senderName: HOSTILE_NAME,
      link: 'https://sealpost.test/p/abc',
      expiresAt: new Date('2026-12-23T10:00:00Z'),
    });
    const receipt = receiptMail({
      ...head,
      recipient: 'max@example.org',
      consoleUrl: 'https://sealpost.test/console',
      reissued: false,
    });
    for (const bytes of [notification, receipt]) {
      const parsed = await simpleParser(bytes);
      const keys = parsed.headerLines.map((h) => h.key);
      assert.ok(!keys.includes('bcc') && !keys.includes('x-injected'), keys.join(','));
      assert.ok(!/\r\n(Bcc|X-Injected):/i.test(bytes.toString('latin1')));
    }
  });

  it('refuses a host name that could carry a header field', () => {
    for (const hostname of ['sealpost.test\r\nBcc: spy@evil.example', 'a b', 'x>\r\n', 'host;x']) {
      assert.throws(() => parseConfig({ hostname }), /host name/);
    }
    assert.equal(
      parseConfig({ hostname: 'mail.praxis-beispiel.example' }).hostname,
      'mail.praxis-beispiel.example',
    );
  });
});
