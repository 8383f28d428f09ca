import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { buildDsn, harmlessHeaders, type DsnInput } from '../../core/dsn.ts';

const ORIGINAL = Buffer.from(
  [
    'Received: from client by gateway',
    'From: Dr. Muster <praxis@example.org>',
    'To: Klientin <klientin@example.net>',
    'Subject: Befund Ihrer Therapie',
    'Date: Mon, 23 Nov 2026 10:00:00 +0100',
    'Message-ID: <orig-1@example.org>',
    'X-Secret: Befund',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Diagnose: streng vertraulich',
    '',
  ].join('\r\n'),
);

function input(over: Partial<DsnInput> = {}): DsnInput {
  return {
    hostname: 'mx.sealpost.test',
    messageId: '<dsn-1@mx.sealpost.test>',
    date: new Date('2026-11-23T10:00:00Z'),
    sender: 'praxis@example.org',
    recipient: 'klientin@example.net',
    code: 'DLV_REJECT_RECIPIENT',
    smtpCode: 550,
    enhanced: '5.1.1',
    original: ORIGINAL,
    ...over,
  };
}

describe('worker/dsn', () => {
  it('is an RFC 3464 multipart/report that parses', async () => {
    const parsed = await simpleParser(buildDsn(input()));
    const ct = parsed.headers.get('content-type') as { value: string; params: Record<string, string> };
    assert.equal(ct.value, 'multipart/report');
    assert.equal(ct.params['report-type'], 'delivery-status');
    assert.equal(parsed.from?.value[0]?.address, 'MAILER-DAEMON@mx.sealpost.test');
    assert.equal(parsed.messageId, '<dsn-1@mx.sealpost.test>');
    assert.match(parsed.text ?? '', /nicht zugestellt/);
    assert.match(parsed.text ?? '', /could not be delivered/);
    assert.match(parsed.text ?? '', /Empfänger/);
  });

  it('reports the recipient, status and only numeric and our codes', () => {
    const text = buildDsn(input()).toString('latin1');
    assert.match(
      text,
      /\r\nContent-Type: message\/delivery-status\r\n\r\nReporting-MTA: dns; mx\.sealpost\.test\r\n/,
    );
    assert.match(
      text,
      /\r\nFinal-Recipient: rfc822; klientin@example\.net\r\nAction: failed\r\nStatus: 5\.1\.1\r\n/,
    );
    assert.match(text, /\r\nDiagnostic-Code: smtp; 550 \(DLV_REJECT_RECIPIENT\)\r\n/);
  });

  it('holds no content: no Subject, no body, no other header of the original', () => {
    const text = buildDsn(input()).toString('latin1');
    assert.doesNotMatch(text, /Befund/);
    assert.doesNotMatch(text, /Diagnose/);
    assert.doesNotMatch(text, /vertraulich/);
    assert.doesNotMatch(text, /Received: from client/);
    assert.match(
      text,
      /\r\nContent-Type: text\/rfc822-headers\r\n\r\nFrom: Dr\. Muster <praxis@example\.org>\r\n/,
    );
    assert.match(text, /\r\nMessage-ID: <orig-1@example\.org>\r\n/);
  });

  it('keeps only Message-ID, Date, From and To, unfolded, once each', () => {
    const raw = Buffer.from(
      'Subject: a\r\nTo: x@example.org,\r\n y@example.org\r\nto: z@example.org\r\nFrom: f@e.org\r\n\r\nTo: body@e.org\r\n',
    );
    assert.deepEqual(harmlessHeaders(raw), ['To: x@example.org, y@example.org', 'From: f@e.org']);
  });

  it('reports 5.4.7 for expiry even when the last reply was temporary', () => {
    const text = buildDsn(input({ code: 'DLV_EXPIRED', smtpCode: 451, enhanced: null })).toString('latin1');
    assert.match(text, /\r\nStatus: 5\.4\.7\r\nDiagnostic-Code: smtp; 451 \(DLV_EXPIRED\)\r\n/);
  });

  it('works without the original and without a remote reply', async () => {
    const bytes = buildDsn(input({ original: null, smtpCode: null, enhanced: null, code: 'DLV_EXPIRED' }));
    assert.match(bytes.toString('latin1'), /Diagnostic-Code: smtp; 550 \(DLV_EXPIRED\)/);
    const parsed = await simpleParser(bytes);
    assert.equal(
      parsed.to && !Array.isArray(parsed.to) ? parsed.to.value[0]?.address : '',
      'praxis@example.org',
    );
  });
});
