import assert from 'node:assert/strict';
import type { PolicyRule } from '../../core/policy-rules.ts';
import { evaluate, matchRule, type KeyFact } from '../../keys/policy/evaluate.ts';
import type { EncryptionKey } from '../../keys/index.ts';

// evaluate() only reads the state, problem and fingerprint of a key status; the key object is opaque.
const FPR = 'A'.repeat(40);
const usable: KeyFact = {
  state: 'usable',
  key: {} as EncryptionKey,
  fingerprint: FPR,
  source: 'admin',
  expires: null,
};
const unusable = (problem: 'expired' | 'revoked' | 'weak' | 'no-encryption-key' | 'unreadable'): KeyFact => ({
  state: 'unusable',
  problem,
  fingerprint: FPR,
  source: 'admin',
});
const none: KeyFact = { state: 'none' };
const error: KeyFact = { state: 'error' };
const rule = (id: string, match: string, action: 'plain' | 'reject'): PolicyRule => ({
  id,
  match,
  action,
  note: null,
});

describe('policy: evaluate (pure; every recipient gets a verdict, a code and a reason)', () => {
  const cases: {
    name: string;
    rcpt: string;
    key: KeyFact;
    rules: PolicyRule[];
    want: [verdict: string, code: string, reason: string];
  }[] = [
    {
      name: 'usable key → pgp',
      rcpt: 'bob@x.org',
      key: usable,
      rules: [],
      want: ['pgp', 'GW_ACCEPTED', `key:${FPR}`],
    },
    {
      name: 'no key, no rule → reject',
      rcpt: 'bob@x.org',
      key: none,
      rules: [],
      want: ['reject', 'GW_NO_KEY', 'no-key'],
    },
    {
      name: 'expired key',
      rcpt: 'bob@x.org',
      key: unusable('expired'),
      rules: [],
      want: ['reject', 'GW_KEY_EXPIRED', `key-expired:${FPR}`],
    },
    {
      name: 'revoked key',
      rcpt: 'bob@x.org',
      key: unusable('revoked'),
      rules: [],
      want: ['reject', 'GW_KEY_REVOKED', `key-revoked:${FPR}`],
    },
    {
      name: 'weak key',
      rcpt: 'bob@x.org',
      key: unusable('weak'),
      rules: [],
      want: ['reject', 'GW_KEY_WEAK', `key-weak:${FPR}`],
    },
    {
      name: 'key without encryption subkey',
      rcpt: 'bob@x.org',
      key: unusable('no-encryption-key'),
      rules: [],
      want: ['reject', 'GW_KEY_NO_ENCRYPTION', `key-no-encryption-key:${FPR}`],
    },
    {
      name: 'unreadable stored key → no usable key',
      rcpt: 'bob@x.org',
      key: unusable('unreadable'),
      rules: [],
      want: ['reject', 'GW_NO_KEY', `key-unreadable:${FPR}`],
    },
    {
      name: 'lookup error → defer (4xx)',
      rcpt: 'bob@x.org',
      key: error,
      rules: [],
      want: ['defer', 'GW_DEFER', 'lookup-error'],
    },
    {
      name: 'lookup error with a plain rule still defers (never downgrade on an error)',
      rcpt: 'bob@x.org',
      key: error,
      rules: [rule('r1', '*', 'plain')],
      want: ['defer', 'GW_DEFER', 'lookup-error'],
    },
    {
      name: 'reject rule beats a usable key',
      rcpt: 'bob@x.org',
      key: usable,
      rules: [rule('r1', 'x.org', 'reject')],
      want: ['reject', 'GW_POLICY_REJECT', 'rule:r1'],
    },
    {
      name: 'reject rule beats a lookup error',
      rcpt: 'bob@x.org',
      key: error,
      rules: [rule('r1', 'bob@x.org', 'reject')],
      want: ['reject', 'GW_POLICY_REJECT', 'rule:r1'],
    },
    {
      name: 'usable key beats a plain rule',
      rcpt: 'bob@x.org',
      key: usable,
      rules: [rule('r1', 'x.org', 'plain')],
      want: ['pgp', 'GW_ACCEPTED', `key:${FPR}`],
    },
    {
      name: 'plain rule with no key → plain',
      rcpt: 'bob@x.org',
      key: none,
      rules: [rule('r1', 'x.org', 'plain')],
      want: ['plain', 'GW_ACCEPTED', 'rule:r1'],
    },
    {
      name: 'plain rule with an expired key → plain (explicitly allowed)',
      rcpt: 'bob@x.org',
      key: unusable('expired'),
      rules: [rule('r1', 'bob@x.org', 'plain')],
      want: ['plain', 'GW_ACCEPTED', 'rule:r1'],
    },
    {
      name: 'address rule beats a domain reject',
      rcpt: 'bob@x.org',
      key: none,
      rules: [rule('d', 'x.org', 'reject'), rule('a', 'bob@x.org', 'plain')],
      want: ['plain', 'GW_ACCEPTED', 'rule:a'],
    },
    {
      name: 'domain rule beats a .domain rule',
      rcpt: 'bob@x.org',
      key: none,
      rules: [rule('p', '.x.org', 'reject'), rule('d', 'x.org', 'plain')],
      want: ['plain', 'GW_ACCEPTED', 'rule:d'],
    },
    {
      name: '.domain matches the domain itself',
      rcpt: 'bob@x.org',
      key: none,
      rules: [rule('p', '.x.org', 'plain')],
      want: ['plain', 'GW_ACCEPTED', 'rule:p'],
    },
    {
      name: '.domain matches subdomains; the nearer parent wins',
      rcpt: 'bob@a.b.x.org',
      key: none,
      rules: [rule('far', '.x.org', 'plain'), rule('near', '.b.x.org', 'reject')],
      want: ['reject', 'GW_POLICY_REJECT', 'rule:near'],
    },
    {
      name: 'a domain rule does not cover subdomains',
      rcpt: 'bob@sub.x.org',
      key: none,
      rules: [rule('d', 'x.org', 'plain')],
      want: ['reject', 'GW_NO_KEY', 'no-key'],
    },
    {
      name: '.domain does not match a lookalike suffix',
      rcpt: 'bob@evilx.org',
      key: none,
      rules: [rule('p', '.x.org', 'plain')],
      want: ['reject', 'GW_NO_KEY', 'no-key'],
    },
    {
      name: '* is the weakest rule',
      rcpt: 'bob@x.org',
      key: none,
      rules: [rule('all', '*', 'reject'), rule('p', '.x.org', 'plain')],
      want: ['plain', 'GW_ACCEPTED', 'rule:p'],
    },
    {
      name: '* applies when nothing else matches',
      rcpt: 'bob@y.org',
      key: usable,
      rules: [rule('all', '*', 'reject'), rule('p', '.x.org', 'plain')],
      want: ['reject', 'GW_POLICY_REJECT', 'rule:all'],
    },
    {
      name: 'matching is case-insensitive',
      rcpt: 'Bob@X.Org',
      key: none,
      rules: [rule('a', 'bob@x.org', 'plain')],
      want: ['plain', 'GW_ACCEPTED', 'rule:a'],
    },
    {
      name: 'an address rule for another local part does not match',
      rcpt: 'eve@x.org',
      key: none,
      rules: [rule('a', 'bob@x.org', 'plain')],
      want: ['reject', 'GW_NO_KEY', 'no-key'],
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const v = evaluate({ recipient: c.rcpt, key: c.key, pickup: false }, c.rules);
      assert.deepEqual([v.verdict, v.code, v.reason], c.want);
    });
  }

  it('returns a verdict for any input instead of throwing', () => {
    const odd = [rule('x', '', 'plain'), rule('y', '@', 'reject')];
    for (const rcpt of ['', '@', 'no-at-sign', 'a@']) {
      const v = evaluate({ recipient: rcpt, key: none, pickup: false }, odd);
      assert.ok(['reject', 'plain'].includes(v.verdict));
    }
  });

  describe('key discovery facts', () => {
    const NEW = 'B'.repeat(40);
    const held: KeyFact = {
      state: 'held',
      fingerprint: NEW,
      previous: FPR,
      source: 'wkd-advanced',
      changeId: 'c',
    };
    const timeout: KeyFact = { state: 'unavailable', reason: 'timeout' };
    const failed: KeyFact = { state: 'unavailable', reason: 'error' };
    const table: {
      name: string;
      key: KeyFact;
      pickup: boolean;
      onTimeout?: 'defer' | 'pickup';
      rules?: PolicyRule[];
      want: [string, string, string];
    }[] = [
      {
        name: 'held key, pickup on → pickup, never the old key',
        key: held,
        pickup: true,
        want: ['pickup', 'GW_ACCEPTED', `key-held:${NEW}`],
      },
      {
        name: 'held key, pickup off → defer GW_KEY_HELD',
        key: held,
        pickup: false,
        want: ['defer', 'GW_KEY_HELD', `key-held:${NEW}`],
      },
      {
        name: 'held key under a reject rule → reject',
        key: held,
        pickup: true,
        rules: [rule('r', 'x.org', 'reject')],
        want: ['reject', 'GW_POLICY_REJECT', 'rule:r'],
      },
      {
        name: 'timeout, policy defer → 451',
        key: timeout,
        pickup: true,
        onTimeout: 'defer',
        want: ['defer', 'GW_KEY_LOOKUP_TIMEOUT', 'lookup-timeout'],
      },
      {
        name: 'timeout, no policy given → defer',
        key: timeout,
        pickup: true,
        want: ['defer', 'GW_KEY_LOOKUP_TIMEOUT', 'lookup-timeout'],
      },
      {
        name: 'timeout, policy pickup → pickup',
        key: timeout,
        pickup: true,
        onTimeout: 'pickup',
        want: ['pickup', 'GW_ACCEPTED', 'lookup-timeout'],
      },
      {
        name: 'timeout, policy pickup but pickup off → defer',
        key: timeout,
        pickup: false,
        onTimeout: 'pickup',
        want: ['defer', 'GW_KEY_LOOKUP_TIMEOUT', 'lookup-timeout'],
      },
      {
        name: 'source failed, policy pickup → pickup',
        key: failed,
        pickup: true,
        onTimeout: 'pickup',
        want: ['pickup', 'GW_ACCEPTED', 'lookup-unavailable'],
      },
    ];
    for (const c of table) {
      it(c.name, () => {
        const v = evaluate(
          {
            recipient: 'bob@x.org',
            key: c.key,
            pickup: c.pickup,
            ...(c.onTimeout ? { onTimeout: c.onTimeout } : {}),
          },
          c.rules ?? [],
        );
        assert.deepEqual([v.verdict, v.code, v.reason], c.want);
      });
    }
  });

  it('matchRule picks the most specific of equal-action rules', () => {
    const rules = [rule('1', '*', 'plain'), rule('2', '.org', 'plain'), rule('3', '.x.org', 'plain')];
    assert.equal(matchRule('bob@x.org', rules)?.id, '3');
    assert.equal(matchRule('bob@y.org', rules)?.id, '2');
    assert.equal(matchRule('bob@y.net', rules)?.id, '1');
  });
});
