import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  appendParams,
  fieldValue,
  getValue,
  MimeError,
  splitMessage,
  withCrlf,
} from '../../keys/mime/mime.ts';

const b = (s: string) => Buffer.from(s, 'latin1');

interface Case {
  what: string;
  raw: Buffer;
  names: string[];
  /** Every field's raw bytes, in order. */
  raws?: string[];
  body: Buffer;
}

const cases: Case[] = [
  {
    what: 'CRLF line ends',
    raw: b('From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n'),
    names: ['From', 'Subject'],
    raws: ['From: a@example.org\r\n', 'Subject: hi\r\n'],
    body: b('body\r\n'),
  },
  {
    what: 'bare LF line ends',
    raw: b('From: a@example.org\nSubject: hi\n\nbody\n'),
    names: ['From', 'Subject'],
    raws: ['From: a@example.org\n', 'Subject: hi\n'],
    body: b('body\n'),
  },
  {
    what: 'folded header fields (space and tab)',
    raw: b('Subject: a long\r\n  subject\r\nTo: x@example.org,\r\n\ty@example.org\r\n\r\nB'),
    names: ['Subject', 'To'],
    raws: ['Subject: a long\r\n  subject\r\n', 'To: x@example.org,\r\n\ty@example.org\r\n'],
    body: b('B'),
  },
  {
    what: 'no body and no empty line',
    raw: b('From: a@example.org\r\nSubject: x\r\n'),
    names: ['From', 'Subject'],
    body: Buffer.alloc(0),
  },
  {
    what: 'empty body after the empty line',
    raw: b('From: a@example.org\r\n\r\n'),
    names: ['From'],
    body: Buffer.alloc(0),
  },
  {
    what: 'last field without a line break',
    raw: b('From: a@example.org\r\nSubject: no newline'),
    names: ['From', 'Subject'],
    raws: ['From: a@example.org\r\n', 'Subject: no newline'],
    body: Buffer.alloc(0),
  },
  {
    what: 'an empty last field without a line break',
    raw: b('From: a@example.org\r\nX:'),
    names: ['From', 'X'],
    raws: ['From: a@example.org\r\n', 'X:'],
    body: Buffer.alloc(0),
  },
  {
    what: 'an empty line inside the body stays body',
    raw: b('X-A: 1\r\n\r\nline 1\r\n\r\nX-B: not a header\r\n'),
    names: ['X-A'],
    body: b('line 1\r\n\r\nX-B: not a header\r\n'),
  },
  {
    what: 'names keep their case; lower is lower-cased',
    raw: b('MESSAGE-id: <a@b>\r\n\r\n'),
    names: ['MESSAGE-id'],
    body: Buffer.alloc(0),
  },
];

describe('keys/mime: splitMessage', () => {
  for (const c of cases) {
    it(c.what, () => {
      const split = splitMessage(c.raw);
      assert.deepEqual(
        split.fields.map((f) => f.name),
        c.names,
      );
      assert.deepEqual(
        split.fields.map((f) => f.lower),
        c.names.map((n) => n.toLowerCase()),
      );
      if (c.raws)
        assert.deepEqual(
          split.fields.map((f) => f.raw.toString('latin1')),
          c.raws,
        );
      assert.ok(split.body.equals(c.body), JSON.stringify(split.body.toString('latin1')));
      // Byte-exact: the fields, the empty line (if any) and the body are the input, nothing added or lost.
      const head = Buffer.concat(split.fields.map((f) => f.raw));
      assert.ok(c.raw.subarray(0, head.length).equals(head), 'fields are the leading input bytes');
      const separator = c.raw.subarray(head.length, c.raw.length - split.body.length).toString('latin1');
      assert.ok(['', '\r\n', '\n'].includes(separator), JSON.stringify(separator));
    });
  }

  it('keeps a binary body byte for byte (NUL, CR alone, high bytes, invalid UTF-8)', () => {
    const body = Buffer.concat([randomBytes(4096), b('\r\r\n\n\0\xff\xfe'), randomBytes(4096)]);
    const raw = Buffer.concat([b('Content-Type: application/octet-stream\r\n\r\n'), body]);
    const split = splitMessage(raw);
    assert.ok(split.body.equals(body));
    assert.equal(split.body.buffer, raw.buffer, 'the body is a view of the input, not a copy');
  });

  const errors: { what: string; raw: Buffer }[] = [
    { what: 'no header at all (starts with the empty line)', raw: b('\r\nbody only\r\n') },
    { what: 'no header at all (bare LF)', raw: b('\nbody only\n') },
    { what: 'empty input', raw: Buffer.alloc(0) },
    { what: 'a continuation line first', raw: b(' folded: x\r\nFrom: a@example.org\r\n\r\n') },
    { what: 'a tab continuation first', raw: b('\tx\r\n\r\n') },
    { what: 'text that is not a header', raw: b('Hello there\r\n\r\nbody') },
    { what: 'a malformed line after a field', raw: b('From: a@example.org\r\nnot a header\r\n\r\n') },
    { what: 'a field name with a space', raw: b('Bad Name: x\r\n\r\n') },
    { what: 'a line starting with a colon', raw: b(': x\r\n\r\n') },
    {
      what: 'a 100 KB header field',
      raw: Buffer.concat([b('X-Big: '), Buffer.alloc(100 * 1024, 0x61), b('\r\n\r\nbody')]),
    },
    {
      what: 'a 100 KB header field folded into many lines',
      raw: Buffer.concat([b('X-Big: a'), Buffer.from('\r\n a'.repeat(25 * 1024), 'latin1'), b('\r\n\r\n')]),
    },
    {
      what: 'a 100 KB field as the last one without an empty line',
      raw: Buffer.concat([b('X-Big: '), Buffer.alloc(100 * 1024, 0x61)]),
    },
    { what: 'a one-character last line without a line break', raw: b('From: a@example.org\r\nX') },
  ];
  for (const { what, raw } of errors) {
    it(`${what} → MimeError`, () => {
      assert.throws(() => splitMessage(raw), MimeError);
    });
  }

  it('accepts a header field just under the 64 KiB limit', () => {
    const value = Buffer.alloc(64 * 1024 - 20, 0x61);
    const split = splitMessage(Buffer.concat([b('X-Big: '), value, b('\r\n\r\n')]));
    assert.equal(split.fields.length, 1);
  });
});

describe('keys/mime: field helpers', () => {
  it('fieldValue unfolds and trims; getValue finds case-insensitively', () => {
    const split = splitMessage(b('Subject:  a\r\n  b \r\nTO: x@example.org\r\n\r\n'));
    assert.equal(fieldValue(split.fields[0]!), 'a  b');
    assert.equal(getValue(split.fields, 'to'), 'x@example.org');
    assert.equal(getValue(split.fields, 'cc'), undefined);
  });

  it('withCrlf normalises only the final line break', () => {
    assert.equal(withCrlf(b('A: 1\n')).toString(), 'A: 1\r\n');
    assert.equal(withCrlf(b('A: 1\r\n')).toString(), 'A: 1\r\n');
    assert.equal(withCrlf(b('A: 1')).toString(), 'A: 1\r\n');
  });

  it('appendParams keeps the original bytes and adds the parameters', () => {
    const split = splitMessage(b('Content-Type: multipart/mixed;\r\n boundary="xyz";\r\n\r\n'));
    assert.equal(
      appendParams(split.fields[0]!, 'hp="cipher"').toString('latin1'),
      'Content-Type: multipart/mixed;\r\n boundary="xyz";\r\n hp="cipher"\r\n',
    );
  });
});
