import assert from 'node:assert/strict';
import { classify } from '../../worker/classify.ts';

/** Real MX replies (as nodemailer reports them: code, response, responseCode) and what we make of them. */
type Case = [name: string, err: unknown, action: 'defer' | 'reject', code: string];

const reply = (responseCode: number, response: string, code = 'EENVELOPE') =>
  Object.assign(new Error('Can\u2019t send mail'), { responseCode, response, code });
const net = (code: string) => Object.assign(new Error('connect failed'), { code });

const CASES: Case[] = [
  [
    'Gmail: no such account',
    reply(
      550,
      '550-5.1.1 The email account that you tried to reach does not exist. Please try\n550-5.1.1 double-checking',
    ),
    'reject',
    'DLV_REJECT_RECIPIENT',
  ],
  [
    'Gmail: over quota (temporary)',
    reply(452, '452-4.2.2 The email account that you tried to reach is over quota. Please direct'),
    'defer',
    'DLV_DEFER_TEMPORARY',
  ],
  [
    'Gmail: unusual rate of unsolicited mail',
    reply(
      421,
      '421-4.7.0 [203.0.113.5] Our system has detected an unusual rate of unsolicited mail',
      'EMESSAGE',
    ),
    'defer',
    'DLV_DEFER_TEMPORARY',
  ],
  [
    'Outlook: Spamhaus block',
    reply(550, '550 5.7.1 Service unavailable, Client host [203.0.113.5] blocked using Spamhaus.'),
    'reject',
    'DLV_REJECT_POLICY',
  ],
  [
    'Exchange: 554 5.7.1 relay denied',
    reply(554, '554 5.7.1 <a@example.org>: Relay access denied'),
    'reject',
    'DLV_REJECT_POLICY',
  ],
  [
    'Exchange: size limit',
    reply(552, '552 5.3.4 Message size exceeds fixed maximum message size', 'EMESSAGE'),
    'reject',
    'DLV_REJECT_SIZE',
  ],
  [
    'RFC 5321 552 without enhanced code',
    reply(552, '552 Requested mail action aborted: exceeded storage'),
    'reject',
    'DLV_REJECT_SIZE',
  ],
  [
    'Postfix: sender domain not found',
    reply(450, '450 4.1.8 <bounce@example.invalid>: Sender address rejected: Domain not found'),
    'defer',
    'DLV_DEFER_TEMPORARY',
  ],
  ['greylisting', reply(451, '451 4.7.1 Please try again later'), 'defer', 'DLV_DEFER_TEMPORARY'],
  [
    'Gmail: DMARC',
    reply(
      550,
      "550-5.7.26 Unauthenticated email from example.org is not accepted due to domain's DMARC policy",
    ),
    'reject',
    'DLV_REJECT_POLICY',
  ],
  [
    'Postfix: user unknown without enhanced code',
    reply(550, '550 User unknown'),
    'reject',
    'DLV_REJECT_RECIPIENT',
  ],
  ['mailbox full 5.2.2', reply(552, '552 5.2.2 Mailbox full'), 'reject', 'DLV_REJECT_RECIPIENT'],
  [
    'Yahoo: 554 without enhanced code',
    reply(554, "554 delivery error: dd This user doesn't have an account"),
    'reject',
    'DLV_REJECT_PERMANENT',
  ],
  [
    'bad sequence 503 is not a verdict',
    reply(503, '503 5.5.1 Error: need RCPT command'),
    'defer',
    'DLV_DEFER_TEMPORARY',
  ],
  ['unknown 5xx', reply(571, '571 go away'), 'reject', 'DLV_REJECT_PERMANENT'],
  ['unknown 4xx', reply(499, '499 hmm'), 'defer', 'DLV_DEFER_TEMPORARY'],
  [
    '5xx with a 4.x.x enhanced code trusts the reply class',
    reply(550, '550 4.1.1 odd'),
    'reject',
    'DLV_REJECT_RECIPIENT',
  ],
  [
    'relay refused our credentials',
    reply(535, '535 5.7.8 Authentication failed', 'EAUTH'),
    'defer',
    'DLV_DEFER_AUTH',
  ],
  ['STARTTLS missing', net('ETLS'), 'defer', 'DLV_DEFER_TLS'],
  [
    'certificate rejected (cause)',
    Object.assign(new Error('x'), { code: 'ESOCKET', cause: { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' } }),
    'defer',
    'DLV_DEFER_TLS',
  ],
  [
    'certificate rejected (nodemailer originalCode)',
    Object.assign(new Error('x'), {
      code: 'ESOCKET',
      originalCode: 'DEPTH_ZERO_SELF_SIGNED_CERT',
      command: 'CONN',
    }),
    'defer',
    'DLV_DEFER_TLS',
  ],
  ['connection refused', net('ECONNREFUSED'), 'defer', 'DLV_DEFER_NETWORK'],
  ['timeout', net('ETIMEDOUT'), 'defer', 'DLV_DEFER_NETWORK'],
  ['socket', net('ESOCKET'), 'defer', 'DLV_DEFER_NETWORK'],
  ['DNS', net('EDNS'), 'defer', 'DLV_DEFER_NETWORK'],
  ['DNS not found', net('ENOTFOUND'), 'defer', 'DLV_DEFER_NETWORK'],
  [
    '421 on connect with ECONNECTION',
    reply(421, '421 4.3.2 Service shutting down', 'ECONNECTION'),
    'defer',
    'DLV_DEFER_TEMPORARY',
  ],
  ['protocol error', net('EPROTOCOL'), 'defer', 'DLV_DEFER_TEMPORARY'],
  ['a string', 'boom', 'defer', 'DLV_DEFER_TEMPORARY'],
  ['null', null, 'defer', 'DLV_DEFER_TEMPORARY'],
  ['undefined', undefined, 'defer', 'DLV_DEFER_TEMPORARY'],
  ['garbage fields', { responseCode: 'x', response: 42, code: {} }, 'defer', 'DLV_DEFER_TEMPORARY'],
  ['out-of-range code', { responseCode: 9999, response: '9999 5.1.1' }, 'defer', 'DLV_DEFER_TEMPORARY'],
];

describe('worker/classify', () => {
  for (const [name, err, action, code] of CASES) {
    it(`${name} → ${action} ${code}`, () => {
      const got = classify(err);
      assert.equal(got.action, action);
      assert.equal(got.code, code);
    });
  }

  it('reports the reply and enhanced codes, never text', () => {
    const got = classify(reply(550, '550-5.1.1 The email account that you tried to reach does not exist.'));
    assert.deepEqual(got, {
      action: 'reject',
      code: 'DLV_REJECT_RECIPIENT',
      smtpCode: 550,
      enhanced: '5.1.1',
    });
  });

  it('survives a cyclic cause chain', () => {
    const err: { code: string; cause?: unknown } = { code: 'EXYZ' };
    err.cause = err;
    assert.equal(classify(err).action, 'defer');
  });
});
