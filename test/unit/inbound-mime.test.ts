import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { parseAutocrypt } from '../../gateway/inbound/autocrypt-header.ts';
import { classify, unwrapPayload } from '../../gateway/inbound/mime.ts';
import { assembleDecrypted, contentFields } from '../../keys/verdict-line/decrypted.ts';
import { quotedPrintable, withNotice } from '../../keys/verdict-line/notice.ts';
import { splitMessage } from '../../keys/mime/mime.ts';
import { multipartChildren, parseEntity } from '../../keys/mime/mime-tree.ts';

/** Structure only: which inbound messages may be decrypted, and where the visible line goes. */
const ARMOR = '-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA0xyz\r\n=abcd\r\n-----END PGP MESSAGE-----';
const LINE = '[Sealpost] Verschlüsselt empfangen. Nicht signiert.';

function mail(lines: string[]): Buffer {
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

function pgpMime(parts: string[]): Buffer {
  return mail([
    'From: a@b.example',
    'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b"',
    '',
    'preamble',
    ...parts.flatMap((p) => ['--b', p]),
    '--b--',
    '',
  ]);
}

const CONTROL = 'Content-Type: application/pgp-encrypted\r\n\r\nVersion: 1';
const DATA = `Content-Type: application/octet-stream\r\n\r\n${ARMOR}`;

/** Render a marked entity as a message and parse it the way a mail program would. */
async function render(entity: Buffer) {
  const marked = withNotice(parseEntity(entity), LINE);
  const head = marked.fields.map((f) => f.raw.toString('latin1')).join('');
  const raw = Buffer.concat([Buffer.from(`From: a@b.example\r\n${head}\r\n`, 'latin1'), ...marked.body]);
  return simpleParser(raw);
}

describe('inbound: MIME structure (gateway/inbound/mime.ts)', () => {
  it('finds the parts between delimiters, ignoring preamble, epilogue and look-alike lines', () => {
    const body = Buffer.from('pre\r\n--b\r\nA\r\n--bx\r\n--b \r\nB\r\n--b--\r\nepilogue');
    const parts = multipartChildren(body, 'b').map((r) => body.subarray(r.start, r.end).toString());
    assert.deepEqual(parts, ['A\r\n--bx', 'B']);
  });

  const cases: [string, Buffer, string][] = [
    ['RFC 3156 PGP/MIME', pgpMime([CONTROL, DATA]), 'pgp-mime'],
    [
      'PGP/MIME with a third part',
      pgpMime([CONTROL, DATA, 'Content-Type: text/html\r\n\r\n<img src="x']),
      'partly-encrypted',
    ],
    ['PGP/MIME parts in the wrong order', pgpMime([DATA, CONTROL]), 'partly-encrypted'],
    ['PGP/MIME with text around the armor', pgpMime([CONTROL, `${DATA}\r\nP.S. hi`]), 'partly-encrypted'],
    ['PGP/MIME with two armored blocks', pgpMime([CONTROL, `${DATA}\r\n${ARMOR}`]), 'partly-encrypted'],
    [
      'PGP/MIME without protocol',
      Buffer.from(pgpMime([CONTROL, DATA]).toString().replace(' protocol="application/pgp-encrypted";', '')),
      'partly-encrypted',
    ],
    ['whole-body inline PGP', mail(['From: a@b.example', '', '', ARMOR, '']), 'inline-pgp'],
    [
      'inline PGP with text before it',
      mail(['From: a@b.example', '', 'see below', ARMOR]),
      'partly-encrypted',
    ],
    [
      'inline PGP in base64',
      mail(['From: a@b.example', 'Content-Transfer-Encoding: base64', '', ARMOR]),
      'partly-encrypted',
    ],
    [
      'encrypted part inside multipart/mixed',
      mail([
        'From: a@b.example',
        'Content-Type: multipart/mixed; boundary=m',
        '',
        '--m',
        'Content-Type: text/plain',
        '',
        'x',
        '--m',
        'Content-Type: multipart/encrypted; boundary=q',
        '',
        '--q--',
        '--m--',
      ]),
      'partly-encrypted',
    ],
    ['plain text', mail(['From: a@b.example', '', 'hello']), 'plain'],
  ];
  for (const [name, raw, kind] of cases) {
    it(`classifies ${name} as ${kind}`, () => {
      assert.equal(classify(splitMessage(raw)).kind, kind);
    });
  }

  it('unwraps an inner multipart/signed and takes the protected headers of the signed part', () => {
    const signedPart =
      'Content-Type: text/plain; protected-headers="v1"\r\nSubject: Real\r\nFrom: x@y.example\r\n\r\nBody';
    const payload = mail([
      'Content-Type: multipart/signed; protocol="application/pgp-signature"; boundary="s"',
      '',
      '--s',
      signedPart,
      '--s',
      'Content-Type: application/pgp-signature',
      '',
      '-----BEGIN PGP SIGNATURE-----',
      '--s--',
    ]);
    const u = unwrapPayload(payload);
    assert.equal(u.signed?.data.toString(), signedPart);
    assert.equal(u.entity.type, 'text/plain');
    assert.deepEqual(
      u.protectedFields.map((f) => f.lower),
      ['subject'],
      'From is not taken from inside',
    );
  });
});

describe('inbound: the message handed on (gateway/inbound/mime.ts assembleDecrypted)', () => {
  const outer = splitMessage(
    mail([
      'From: a@b.example',
      'Subject: [...]',
      'Reply-To: evil@evil.example',
      'Content-Type: multipart/encrypted',
      '',
      '',
    ]),
  ).fields;
  const assemble = (inner: string[]) => {
    const u = unwrapPayload(mail(inner));
    return Buffer.concat(
      assembleDecrypted({
        outer,
        protectedFields: u.protectedFields,
        security: Buffer.from('Sealpost-Security: x\r\n'),
        entityFields: contentFields(u.entity),
        body: [u.entity.body],
      }),
    ).toString();
  };

  it('restores protected fields and drops an unprotected outer Reply-To', () => {
    const out = assemble(['Content-Type: text/plain; protected-headers="v1"', 'Subject: Real', '', 'Body']);
    assert.equal(
      out,
      'Sealpost-Security: x\r\nFrom: a@b.example\r\nSubject: Real\r\nMIME-Version: 1.0\r\n' +
        'Content-Type: text/plain; protected-headers="v1"\r\n\r\nBody',
    );
  });

  it('keeps the outer fields when the payload protects none', () => {
    const out = assemble(['Content-Type: text/plain', 'Subject: Inner', '', 'Body']);
    assert.match(out, /^Subject: \[\.\.\.\]\r$/m);
    assert.match(out, /^Reply-To: evil@evil\.example\r$/m);
    assert.ok(!out.includes('Inner'));
  });
});

describe('inbound: the visible line (keys/verdict-line/notice.ts)', () => {
  it('prepends it to quoted-printable text and to base64 HTML, both of an alternative', async () => {
    const html = Buffer.from('<html><body class="x"><p>Grüße</p></body></html>').toString('base64');
    const parsed = await render(
      mail([
        'Content-Type: multipart/alternative; boundary="a"',
        '',
        '--a',
        'Content-Type: text/plain; charset=iso-8859-1',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        'Gr=FC=DFe',
        '--a',
        'Content-Type: text/html; charset=utf-8',
        'Content-Transfer-Encoding: base64',
        '',
        html,
        '--a--',
      ]),
    );
    assert.equal(parsed.text, `${LINE}\n\nGrüße`);
    assert.match(
      parsed.html || '',
      /<body class="x"><div [^>]*>\[Sealpost\] Verschl&#252;sselt empfangen\. Nicht signiert\.<\/div><p>Grüße<\/p>/,
    );
  });

  it('declares UTF-8 for a US-ASCII part and leaves attachments alone', async () => {
    const parsed = await render(
      mail([
        'Content-Type: multipart/mixed; boundary="m"',
        '',
        '--m',
        'Content-Type: text/plain; charset=us-ascii; name="notes.txt"',
        'Content-Disposition: attachment; filename="notes.txt"',
        '',
        'attached',
        '--m',
        'Content-Type: text/plain; charset=us-ascii; format=flowed',
        '',
        'Hello',
        '--m--',
      ]),
    );
    assert.equal(parsed.text, `${LINE}\n\nHello`);
    assert.equal(parsed.attachments[0]!.content.toString(), 'attached');
  });

  it('wraps a message without text into multipart/mixed with the line first', async () => {
    const parsed = await render(
      mail(['Content-Type: application/pdf', 'Content-Transfer-Encoding: base64', '', 'JVBERi0=']),
    );
    assert.equal(parsed.text?.trim(), LINE);
    assert.equal(parsed.attachments[0]!.content.toString(), '%PDF-');
  });

  it('encodes quoted-printable with soft breaks before 76 characters', () => {
    const qp = quotedPrintable(Buffer.from(`${'ü'.repeat(40)}\r\nx=y`)).toString();
    assert.ok(qp.split('\r\n').every((l) => l.length <= 76));
    assert.match(qp, /\r\nx=3Dy$/);
  });
});

describe('inbound: Autocrypt headers (gateway/inbound/autocrypt-header.ts)', () => {
  it('reads addr and keydata, ignores _attributes, and refuses unknown ones', () => {
    const h = parseAutocrypt('addr=A@B.example; _x=1; prefer-encrypt=mutual; keydata=\r\n AAEC\r\n AwQ=');
    assert.equal(h?.addr, 'a@b.example');
    assert.deepEqual([...h!.keydata], [0, 1, 2, 3, 4]);
    assert.equal(parseAutocrypt('addr=a@b.example; x=1; keydata=AAEC'), undefined);
    assert.equal(parseAutocrypt('addr=a@b.example'), undefined);
    assert.equal(parseAutocrypt('addr=a@b.example; keydata=!!'), undefined);
  });
});
