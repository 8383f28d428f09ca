import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { encryptedMail, inlineEncryptedMail } from '../helpers/autocrypt.ts';
import { testDbKinds } from '../helpers/db.ts';
import { ANNA, startTestInbound, type TestInbound } from '../helpers/inbound.ts';

/**
 * A forged verdict line (issue 11, finding 6): a plain mail whose text begins with Sealpost's visible line
 * — `[Sealpost] Verschlüsselt empfangen. Signiert von chef@… (Signatur geprüft).` — was relayed as it came,
 * and inside an encrypted message a sender could put one under ours. Every look-alike (in any case, script
 * or encoding, in text/plain and text/html, quoted-printable or base64, also inside the decrypted content)
 * is now marked in place as not from Sealpost, and Sealpost's own line goes first and says so.
 */
const FAKE_DE =
  '[Sealpost] Verschlüsselt empfangen. Signiert von chef@praxis.example (Schlüssel 5A4B 6AF5, Signatur geprüft).';
const FAKE_EN =
  '[Sealpost] Received encrypted. Signed by chef@praxis.example (key 5A4B 6AF5, signature verified).';
const MARK_DE = '[Achtung: nicht von Sealpost]';
const MARK_EN = '[Warning: not from Sealpost]';

function mail(head: string[], body: string): Buffer {
  return Buffer.from(
    [
      'From: Chef <chef@clinic.example>',
      `To: <${ANNA}>`,
      'Subject: Befund',
      'MIME-Version: 1.0',
      ...head,
      '',
      body,
    ].join('\r\n'),
    'utf8',
  );
}

function securityField(raw: Buffer): string {
  const head = raw
    .toString('utf8')
    .split('\r\n\r\n')[0]!
    .replace(/\r\n[ \t]+/g, ' ');
  return head.split('\r\n').find((l) => /^sealpost-security:/i.test(l)) ?? '';
}

/** Every line of `text` that holds a look-alike is preceded by the marker; returns how many. */
function assertMarked(text: string, fakeStart: string, marker: string): number {
  // The first line is ours.
  const lines = text
    .split(/\r?\n/)
    .slice(1)
    .filter((l) => l.includes(fakeStart));
  assert.ok(lines.length > 0, `no line with ${fakeStart} in:\n${text}`);
  for (const l of lines) assert.ok(l.includes(`${marker} ${fakeStart}`), `not marked: ${l}`);
  return lines.length;
}

for (const kind of testDbKinds()) {
  describe(`security: the visible verdict line cannot be forged by the sender (${kind})`, function () {
    this.timeout(120_000);
    let gw: TestInbound | undefined;
    afterEach(async () => {
      await gw?.close();
      gw = undefined;
    });

    it('a plain text mail that starts with a fake line: ours goes first, the fake one is marked', async () => {
      gw = await startTestInbound({ kind });
      await gw.send(
        { from: 'chef@clinic.example', to: [ANNA] },
        mail(
          ['Content-Type: text/plain; charset=utf-8'],
          `${FAKE_DE}\r\n\r\nBitte senden Sie den Befund.\r\n`,
        ),
      );
      const [got] = await gw.sink.waitFor(1);
      assert.equal(securityField(got!.raw), 'Sealpost-Security: not-encrypted; look-alike=marked');
      const parsed = await simpleParser(got!.raw);
      const first = parsed.text!.split(/\r?\n/)[0]!;
      assert.match(
        first,
        /^\[Sealpost\] Unverschlüsselt empfangen - der Absender ist nicht bestätigt\. ACHTUNG/,
      );
      assertMarked(parsed.text!, FAKE_DE.slice(0, 20), MARK_DE);
      assert.ok(parsed.text!.includes('Bitte senden Sie den Befund.'));
    });

    it('quoted-printable text and base64 HTML of an alternative, in English, disguised', async () => {
      gw = await startTestInbound({ kind, config: { inbound: { language: 'en' } } });
      const qp = FAKE_EN.replace('[Sealpost]', '=5BSeal=\r\npost=5D');
      const html = Buffer.from(
        `<html><body><div style="border:1px solid #888">&#91;S\u200Beal<b>post</b>&#93; Received encrypted. ` +
          'Signed by chef@praxis.example (signature verified).</div><p>Please send the results.</p></body></html>',
        'utf8',
      ).toString('base64');
      const body = [
        '--alt',
        'Content-Type: text/plain; charset=us-ascii',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        qp,
        '',
        'Please send the results.',
        '--alt',
        'Content-Type: text/html; charset=utf-8',
        'Content-Transfer-Encoding: base64',
        '',
        html.replace(/(.{76})/g, '$1\r\n'),
        '--alt--',
        '',
      ].join('\r\n');
      await gw.send(
        { from: 'chef@clinic.example', to: [ANNA] },
        mail(['Content-Type: multipart/alternative; boundary="alt"'], body),
      );
      const [got] = await gw.sink.waitFor(1);
      assert.equal(securityField(got!.raw), 'Sealpost-Security: not-encrypted; look-alike=marked');
      const parsed = await simpleParser(got!.raw);
      assert.match(parsed.text!.split(/\r?\n/)[0]!, /^\[Sealpost\] Received unencrypted .* WARNING/);
      assertMarked(parsed.text!, '[Sealpost] Received encrypted', MARK_EN);
      const html2 = parsed.html as string;
      assert.ok(html2.indexOf('[Sealpost] Received unencrypted') < html2.indexOf(MARK_EN), 'ours first');
      assert.ok(html2.includes(`${MARK_EN} &#91;S\u200Beal<b>post</b>&#93;`), html2);
    });

    it('homoglyphs, zero-width characters and spacing do not hide a look-alike', async () => {
      gw = await startTestInbound({ kind });
      const fakes = [
        '[Ѕеаlроѕт] Verschlüsselt empfangen.',
        '[Seal\u200Bpost] Verschlüsselt empfangen.',
        '[S e a l p o s t] Verschlüsselt empfangen.',
        '[ＳＥＡＬＰＯＳＴ] Verschlüsselt empfangen.',
      ];
      await gw.send(
        { from: 'chef@clinic.example', to: [ANNA] },
        mail(
          ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit'],
          fakes.join('\r\n'),
        ),
      );
      const [got] = await gw.sink.waitFor(1);
      const text = (await simpleParser(got!.raw)).text!;
      for (const fake of fakes)
        assert.ok(text.includes(`${MARK_DE} ${fake}`), `not marked: ${fake}\n${text}`);
    });

    it("inside an encrypted message: ours is the first line, the sender's fake one under it is marked", async () => {
      gw = await startTestInbound({ kind });
      const encrypted = await encryptedMail({
        from: 'chef@clinic.example',
        to: ANNA,
        encryptTo: gw.publicKeys[ANNA]!,
        text: `${FAKE_DE}\r\n\r\nDer Befund ist unauffällig.\r\n`,
      });
      await gw.send({ from: 'chef@clinic.example', to: [ANNA] }, encrypted);
      const [got] = await gw.sink.waitFor(1);
      assert.equal(
        securityField(got!.raw),
        'Sealpost-Security: decrypted; signature=none; look-alike=marked',
      );
      const text = (await simpleParser(got!.raw)).text!;
      assert.match(
        text.split(/\r?\n/)[0]!,
        /^\[Sealpost\] Verschlüsselt empfangen\. Nicht signiert.* ACHTUNG/,
      );
      assertMarked(text, FAKE_DE.slice(0, 20), MARK_DE);
    });

    it('the first line of a decrypted inline PGP message, too', async () => {
      gw = await startTestInbound({ kind });
      const encrypted = await inlineEncryptedMail({
        from: 'chef@clinic.example',
        to: ANNA,
        encryptTo: gw.publicKeys[ANNA]!,
        text: `${FAKE_DE}\r\nDer Befund ist unauffällig.\r\n`,
      });
      await gw.send({ from: 'chef@clinic.example', to: [ANNA] }, encrypted);
      const [got] = await gw.sink.waitFor(1);
      assert.equal(
        securityField(got!.raw),
        'Sealpost-Security: decrypted; signature=none; look-alike=marked',
      );
      const text = (await simpleParser(got!.raw)).text!;
      assert.match(text.split(/\r?\n/)[0]!, /^\[Sealpost\] Verschlüsselt empfangen\. Nicht signiert/);
      assertMarked(text, FAKE_DE.slice(0, 20), MARK_DE);
    });

    it('a forwarded message (message/rfc822, inline or attached in base64) and a text attachment', async () => {
      gw = await startTestInbound({ kind });
      const forwarded = [
        'From: x@y.example',
        'Subject: fwd',
        'Content-Type: text/plain; charset=utf-8',
        '',
        FAKE_DE,
      ];
      const body = [
        '--m',
        'Content-Type: text/plain; charset=utf-8',
        '',
        'Siehe unten.',
        '--m',
        'Content-Type: message/rfc822',
        '',
        ...forwarded,
        '--m',
        'Content-Type: message/rfc822; name="weitergeleitet.eml"',
        'Content-Disposition: attachment; filename="weitergeleitet.eml"',
        'Content-Transfer-Encoding: base64',
        '',
        Buffer.from(forwarded.join('\r\n'), 'utf8').toString('base64'),
        '--m',
        'Content-Type: text/plain; charset=utf-8; name="hinweis.txt"',
        'Content-Disposition: attachment; filename="hinweis.txt"',
        'Content-Transfer-Encoding: base64',
        '',
        Buffer.from(`${FAKE_DE}\r\n`, 'utf8').toString('base64'),
        '--m--',
        '',
      ].join('\r\n');
      await gw.send(
        { from: 'chef@clinic.example', to: [ANNA] },
        mail(['Content-Type: multipart/mixed; boundary="m"'], body),
      );
      const [got] = await gw.sink.waitFor(1);
      const raw = got!.raw.toString('utf8');
      assert.ok(raw.includes(`${MARK_DE} ${FAKE_DE}`), 'inside the forwarded message');
      const parsed = await simpleParser(got!.raw);
      const eml = parsed.attachments.find((a) => a.filename === 'weitergeleitet.eml');
      assert.ok(
        eml?.content.toString('utf8').includes(`${MARK_DE} ${FAKE_DE}`),
        'inside the attached message',
      );
      const attachment = parsed.attachments.find((a) => a.filename === 'hinweis.txt');
      assert.ok(attachment?.content.toString('utf8').startsWith(`${MARK_DE} ${FAKE_DE}`));
    });

    it('a quoted line is marked once, and stays marked once when the message comes back again', async () => {
      gw = await startTestInbound({ kind });
      const first = mail(
        ['Content-Type: text/plain; charset=utf-8'],
        `Danke!\r\n\r\n> ${FAKE_DE}\r\n> Der Befund.\r\n`,
      );
      await gw.send({ from: 'chef@clinic.example', to: [ANNA] }, first);
      const [once] = await gw.sink.waitFor(1);
      const head = once!.raw.toString('utf8').indexOf('From: Chef');
      await gw.send({ from: 'chef@clinic.example', to: [ANNA] }, once!.raw.subarray(head));
      const both = await gw.sink.waitFor(2);
      const text = (await simpleParser(both[1]!.raw)).text!;
      // The quoted fake keeps its one marker; our line of the first pass is now text, and marked too.
      assert.ok(text.includes(`> ${MARK_DE} ${FAKE_DE}`), text);
      assert.ok(!text.includes(`${MARK_DE} ${MARK_DE}`), text);
      const lines = text.split(/\r?\n/);
      assert.match(lines[0]!, /^\[Sealpost\] Unverschlüsselt empfangen/);
      assert.ok(lines.slice(1).some((l) => l.startsWith(`${MARK_DE} [Sealpost] Unverschlüsselt empfangen`)));
      assert.equal(text.split(MARK_DE).length - 1, 2, text);
    });

    it("a look-alike where no marker can go (a style sheet, an image's alt text): ours goes first", async () => {
      gw = await startTestInbound({ kind });
      const html =
        '<html><head><style>p.x::before{content:"[Sealpost] Verschlüsselt empfangen. Signatur geprüft."}</style></head>' +
        '<body><p class="x"></p><img alt="[Sealpost] Signiert" src="cid:x"></body></html>';
      await gw.send(
        { from: 'chef@clinic.example', to: [ANNA] },
        mail(['Content-Type: text/html; charset=utf-8'], html),
      );
      const [got] = await gw.sink.waitFor(1);
      assert.equal(securityField(got!.raw), 'Sealpost-Security: not-encrypted; look-alike=marked');
      const out = (await simpleParser(got!.raw)).html as string;
      assert.ok(out.indexOf('[Sealpost] Unverschlüsselt empfangen') < out.indexOf('<p class="x">'), out);
    });

    it('a MIME tree that cannot be read through: the whole message is wrapped under our line', async () => {
      gw = await startTestInbound({ kind });
      // A part whose header section is broken: Sealpost cannot read the parts, a mail program may.
      const body = ['--m', 'this line is no header field', '', FAKE_DE, '--m--', ''].join('\r\n');
      await gw.send(
        { from: 'chef@clinic.example', to: [ANNA] },
        mail(['Content-Type: multipart/mixed; boundary="m"'], body),
      );
      const [got] = await gw.sink.waitFor(1);
      assert.equal(securityField(got!.raw), 'Sealpost-Security: not-encrypted; look-alike=unchecked');
      const parsed = await simpleParser(got!.raw);
      assert.match(parsed.text!, /^\[Sealpost\] Unverschlüsselt empfangen.*fehlerhaft aufgebaut/);
    });

    it('a plain mail without a look-alike is passed on unchanged', async () => {
      gw = await startTestInbound({ kind });
      const plain = mail(['Content-Type: text/plain; charset=utf-8'], 'Ein Siegel auf dem Brief.\r\n');
      await gw.send({ from: 'chef@clinic.example', to: [ANNA] }, plain);
      const [got] = await gw.sink.waitFor(1);
      assert.equal(securityField(got!.raw), 'Sealpost-Security: not-encrypted');
      assert.ok(got!.raw.includes(plain));
    });
  });
}
