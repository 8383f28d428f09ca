import type { LogEventSection } from '../events.ts';

/** Log events of the inbound listener, the key store and key discovery (docs/codes.md). */
export const INBOUND_EVENTS = {
  title: 'Inbound listener (`IN_*`; see [inbound.md](inbound.md))',
  intro:
    'The inbound SMTP replies are logged too: `IN_RELAY_DENIED`/`IN_UNKNOWN_RECIPIENT` at info with\n`rcpt` and `remote`, `IN_RELAY_*` failures at warn with `errName` and the downstream `smtpCode`.',
  events: [
    { codes: ['SYS_INBOUND_LISTENING'], level: 'info', meaning: 'the inbound listener is bound (`port`)' },
    {
      codes: ['SYS_INBOUND_OFF'],
      level: 'info',
      meaning: '`SEALPOST_INBOUND_RELAY` is unset: no inbound listener',
    },
    {
      codes: ['IN_RELAYED'],
      level: 'info',
      meaning:
        "a message was handed to the practice's server (`verdict`: `decrypted`, `not-decrypted`, `not-encrypted` per copy; `count`, `bytes`, `ms`)",
    },
    {
      codes: ['IN_SIZE_EXCEEDED'],
      level: 'info',
      meaning: 'a message over `limits.maxMessageBytes` was refused (552)',
    },
    {
      codes: ['IN_AUTOCRYPT_STORED'],
      level: 'info',
      meaning:
        'a proven Autocrypt key (DKIM aligned, message signed by it) was recorded for an address that had no key and no pickup contact (`from`, `fingerprint`)',
    },
    {
      codes: ['IN_AUTOCRYPT_KEY_CHANGED'],
      level: 'warn',
      meaning:
        'a proven Autocrypt key differs from the key known for the address or its pickup contact: held for the admin whatever `discovery.keyChange` says (`outcome`; audit: both fingerprints)',
    },
    {
      codes: ['IN_AUTOCRYPT_UNPROVEN'],
      level: 'info',
      meaning:
        'an Autocrypt key was ignored: the message does not prove that the From domain sent it (`reason`: `not-signed` — no valid signature by that key over the content; `dkim-none`, `dkim-fail`, `dkim-not-aligned`, `dkim-temperror`)',
    },
    {
      codes: ['IN_AUTOCRYPT_LOCAL'],
      level: 'warn',
      meaning:
        'an Autocrypt header offered a key for a local address (a local domain, or an address with a sender key): never recorded, local keys are sender keys (`from`)',
    },
    {
      codes: ['IN_AUTOCRYPT_IGNORED'],
      level: 'info',
      meaning:
        'an Autocrypt header of the From address was not usable (`reason`: a key problem, `no-user-id`, `ambiguous`)',
    },
    {
      codes: ['IN_AUTOCRYPT_FAILED'],
      level: 'warn',
      meaning: 'checking or recording an Autocrypt key failed (`errName`); the message went on',
    },
    {
      codes: ['IN_INTERNAL_ERROR'],
      level: 'error',
      meaning: 'an unexpected error while handling a command: answered 451, nothing stored',
    },
    { codes: ['IN_SERVER_ERROR'], level: 'warn', meaning: 'the listener reported a socket error' },
    {
      codes: ['IN_TOO_MANY_CONNECTIONS'],
      level: 'warn',
      meaning: 'over `limits.maxConnectionsPerIp` from `remote`: 421 (logged once a minute per address)',
    },
  ],
} as const satisfies LogEventSection;

export const KEY_STORE_EVENTS = {
  title:
    'Key store and key changes (`KD_*`, keys/store/, keys/policy/recipient-keys.ts; see [discovery.md](discovery.md))',
  intro: '',
  events: [
    {
      codes: ['KD_KEY_STORED'],
      level: 'info',
      meaning:
        'a discovered (or Autocrypt) key was stored for an address that had none (`rcpt`, `fingerprint`, `source`)',
    },
    {
      codes: ['KD_KEY_CHANGE_HELD'],
      level: 'warn',
      meaning:
        'a known address presented a different key; it is held for the admin, pickup meanwhile (`rcpt`, new `fingerprint`, `source`)',
    },
    {
      codes: ['KD_KEY_CHANGE_ACCEPTED'],
      level: 'warn',
      meaning:
        'a known address presented a different key; policy `accept-and-log` took it (`rcpt`, new `fingerprint`, `source`)',
    },
    {
      codes: ['KD_KEY_CHANGE_DECIDED'],
      level: 'info',
      meaning: 'an admin approved or rejected a held change (`rcpt`, `decision`, `fingerprint`)',
    },
    {
      codes: ['KD_KEY_DROPPED'],
      level: 'info',
      meaning:
        'the refresh found a discovered key unusable and dropped it (`rcpt`, `fingerprint`, `problem`)',
    },
    {
      codes: ['KD_RECORD_FAILED'],
      level: 'warn',
      meaning: 'a found key could not be recorded (`rcpt`, `errName`); the recipient is deferred (451)',
    },
    {
      codes: ['KD_REFRESHED'],
      level: 'info',
      meaning:
        'the key refresh ran (`count` addresses, `outcome`: counts of confirmed, changed, dropped, unanswered)',
    },
    {
      codes: ['KD_REFRESH_FAILED'],
      level: 'warn',
      meaning: 'refreshing one address failed (`rcpt`, `errName`); the others went on',
    },
  ],
} as const satisfies LogEventSection;

export const DISCOVERY_EVENTS = {
  title: 'Key discovery (`KD_*`, keys/discovery/)',
  intro:
    'The network lookup (`keys/discovery/`; see [discovery.md](discovery.md#lookup)). `source` is `wkd-advanced`,\n`wkd-direct` or `vks`; addresses are logged, keys never.',
  events: [
    {
      codes: ['KD_FOUND'],
      level: 'info',
      meaning: 'a usable key was found (`rcpt`, `source`, `url`, `fingerprint`, `ms`)',
    },
    {
      codes: ['KD_NOT_FOUND'],
      level: 'info',
      meaning:
        'every source answered and none has a usable key for the address (`rcpt`, `ms`); cached for `negativeTtlSeconds`',
    },
    {
      codes: ['KD_UNAVAILABLE'],
      level: 'warn',
      meaning:
        'no key found and at least one source did not answer (`rcpt`, `problem`: `timeout` or `error`, `ms`); not cached',
    },
    {
      codes: ['KD_SOURCE_ERROR'],
      level: 'warn/info',
      meaning:
        'one source failed (`source`, `problem`: `timeout`, `error`, `budget`; `status` for HTTP 5xx, `errName` for TLS/network); info for an unexpected 3xx/4xx (`problem` `absent`, `status`); debug while the VKS is backed off (`rate-limited`)',
    },
    {
      codes: ['KD_KEY_REJECTED'],
      level: 'info',
      meaning:
        'a source served a key that is not used (`source`, `problem`: `unreadable`, `no-user-id`, `expired`, `revoked`, `weak`, `no-encryption-key`, `private-key`)',
    },
    {
      codes: ['KD_KEY_TOO_LARGE'],
      level: 'warn',
      meaning:
        'a source served more than `discovery.maxKeyBytes`; the download was cut off and ignored (`source`, `bytes` read or declared)',
    },
    {
      codes: ['KD_RATE_LIMITED'],
      level: 'warn',
      meaning:
        'the VKS answered 429: no VKS request until its Retry-After has passed (`ms`; default 60 s); logged once per back-off',
    },
  ],
} as const satisfies LogEventSection;
