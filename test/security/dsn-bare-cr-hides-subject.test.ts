import assert from 'node:assert/strict';
import { buildDsn } from '../../core/dsn.ts';

/**
 * A neighbour of header smuggling (issue 11, finding 3): a bounce copies the harmless header fields of the
 * original (Message-ID, Date, From, To) and never its Subject (invariant 2). It unfolded fields and then
 * deleted every CR and LF left — so `From: a\rSubject: …` (one field to an LF parser) was copied with the
 * subject glued on. A field that still holds a CR, LF or NUL after unfolding is now left out.
 */
describe('security: a bare CR cannot carry the subject into a bounce', () => {
  it('leaves out a harmless field that hides another field behind a bare CR', () => {
    const original = Buffer.from(
      [
        'From: anna@praxis.example\rSubject: Diagnose F32.1 SECRET-SUBJECT',
        'To: bob@clinic.example\r\0Subject: SECRET-TWO',
        'Message-ID: <m1@praxis.example>',
        'Subject: Befund SECRET-SUBJECT',
        '',
        'Body SECRET-BODY',
        '',
      ].join('\r\n'),
      'latin1',
    );
    const dsn = buildDsn({
      hostname: 'sealpost.test',
      messageId: '<dsn@sealpost.test>',
      date: new Date('2026-11-23T10:00:00Z'),
      sender: 'anna@praxis.example',
      recipient: 'bob@clinic.example',
      code: 'DLV_REJECT_RECIPIENT',
      smtpCode: 550,
      enhanced: '5.1.1',
      original,
    }).toString('latin1');
    assert.ok(!dsn.includes('SECRET'), dsn);
    assert.ok(dsn.includes('Message-ID: <m1@praxis.example>'), 'the clean field is still copied');
  });
});
