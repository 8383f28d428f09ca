import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { buildReply, encodeWords, type ReplyInput } from '../../webmail/pickup/src/lib/mime-build.ts';

/**
 * The reply the pickup app builds by hand, read back by an independent parser (mailparser): encoded words,
 * RFC 2231 file names, CRLF only, short lines, threading, and no header a person could inject.
 */
function input(over: Partial<ReplyInput> = {}): ReplyInput {
  return {
    from: 'max@example.org',
    to: { address: 'anna@praxis.example', name: 'Praxis Dr. Anna Berg' },
    subject: 'Re: Ihr Befund',
    text: 'Danke!\nBis bald.',
    date: new Date('2026-03-01T10:00:00Z'),
    host: 'sealpost.example',
    inReplyTo: '<orig-1@praxis.example>',
    references: '<start@praxis.example> <orig-0@praxis.example>',
    attachments: [],
    ...over,
  };
}

function lines(bytes: Uint8Array): string[] {
  return Buffer.from(bytes).toString('latin1').split('\r\n');
}

describe('pickup app: the reply MIME entity', () => {
  it('is a text/plain entity with the threading fields when there is no attachment', async () => {
    const { bytes, messageId } = buildReply(input());
    const m = await simpleParser(Buffer.from(bytes));
    assert.equal(m.subject, 'Re: Ihr Befund');
    assert.equal(m.from?.value[0]?.address, 'max@example.org');
    assert.equal(m.to && !Array.isArray(m.to) ? m.to.value[0]?.name : '', 'Praxis Dr. Anna Berg');
    assert.equal(m.messageId, messageId);
    assert.match(messageId, /^<[0-9a-f]{32}@sealpost\.example>$/);
    assert.equal(m.inReplyTo, '<orig-1@praxis.example>');
    assert.deepEqual(m.references, [
      '<start@praxis.example>',
      '<orig-0@praxis.example>',
      '<orig-1@praxis.example>',
    ]);
    assert.equal(m.text, 'Danke!\nBis bald.');
    assert.equal(m.date?.toISOString(), '2026-03-01T10:00:00.000Z');
    assert.equal(m.attachments.length, 0);
  });

  it('encodes non-ASCII subjects and names (RFC 2047) and file names (RFC 2231), bytes intact', async () => {
    const pdf = randomBytes(100_000);
    const long = `Übersicht der Behandlungstermine für das zweite Quartal – ${'ä'.repeat(40)}.pdf`;
    const subject = `Re: Größe & Ärger – ${'Überweisung '.repeat(8)}`.trim();
    const { bytes } = buildReply(
      input({
        subject,
        to: { address: 'anna@praxis.example', name: 'Praxis Dr. Jürgen "Jo" Weiß' },
        text: 'Grüße\r\nMax',
        attachments: [
          { name: long, type: 'application/pdf', bytes: pdf },
          { name: 'plain.txt', type: 'text/plain', bytes: Buffer.from('hello') },
          { name: '日本語.bin', type: 'not a type', bytes: new Uint8Array(0) },
        ],
      }),
    );
    for (const line of lines(bytes))
      assert.ok(line.length <= 78, `line of ${line.length}: ${line.slice(0, 40)}`);
    assert.ok(!/[^\r]\n/.test(Buffer.from(bytes).toString('latin1')), 'CRLF only');
    assert.ok(!Buffer.from(bytes).some((b) => b > 0x7e), '7-bit clean');
    const m = await simpleParser(Buffer.from(bytes));
    assert.equal(m.subject, subject);
    assert.equal(m.to && !Array.isArray(m.to) ? m.to.value[0]?.name : '', 'Praxis Dr. Jürgen "Jo" Weiß');
    assert.equal(m.text?.trim(), 'Grüße\nMax');
    assert.equal(m.attachments.length, 3);
    assert.equal(m.attachments[0]!.filename, long);
    assert.equal(m.attachments[0]!.contentType, 'application/pdf');
    assert.ok(m.attachments[0]!.content.equals(pdf));
    assert.equal(m.attachments[1]!.filename, 'plain.txt');
    assert.equal(m.attachments[2]!.filename, '日本語.bin');
    assert.equal(m.attachments[2]!.contentType, 'application/octet-stream', 'an odd type is not copied');
  });

  it('lets nothing a person typed add a header field', async () => {
    const { bytes } = buildReply(
      input({
        subject: 'Hallo\r\nBcc: evil@attacker.example',
        to: { address: 'anna@praxis.example>\r\nBcc: <evil2@attacker.example', name: 'A\nBcc: x@y' },
        inReplyTo: '<a@b>\r\nBcc: evil3@attacker.example',
        references: 'junk\r\nBcc: evil4@attacker.example',
        attachments: [
          {
            name: 'x"\r\nBcc: evil5@attacker.example',
            type: 'text/plain\r\nBcc: x',
            bytes: new Uint8Array(1),
          },
        ],
      }),
    );
    const text = Buffer.from(bytes).toString('latin1');
    assert.ok(!/^Bcc:/im.test(text), text);
    const m = await simpleParser(Buffer.from(bytes));
    assert.equal(m.bcc, undefined);
    assert.equal(m.inReplyTo, undefined, 'a malformed Message-ID is dropped, not copied');
  });

  it('never splits a character across encoded words', () => {
    const words = encodeWords('€'.repeat(40)).split('\r\n ');
    assert.ok(words.length > 1);
    for (const w of words) {
      assert.ok(w.length <= 75);
      const b64 = /^=\?UTF-8\?B\?(.*)\?=$/.exec(w)![1]!;
      assert.ok(/^(€)+$/.test(Buffer.from(b64, 'base64').toString('utf8')));
    }
  });
});
