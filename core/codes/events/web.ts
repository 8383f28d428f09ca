import type { LogEventSection } from '../events.ts';

/** Log events of the admin API and the practitioner's console (docs/codes.md). */
export const ADMIN_API_EVENTS = {
  title: 'Admin API',
  intro: "`user` is the login given, `remote` the peer's IP; never a password.",
  events: [
    { codes: ['ADM_AUTH_OK'], level: 'debug', meaning: 'an admin request was authenticated' },
    {
      codes: ['ADM_AUTH_FAILED'],
      level: 'warn',
      meaning:
        'a failed login (`reason`: `bad-password`, `disabled`, or `unknown-user` — an unknown login is checked against a dummy hash like any other one)',
    },
    { codes: ['ADM_FORBIDDEN'], level: 'warn', meaning: 'a valid login without `is_admin`' },
    {
      codes: ['ADM_TLS_REQUIRED'],
      level: 'warn',
      meaning:
        'an admin request over plain HTTP from a non-loopback peer was refused before its password was looked at',
    },
    {
      codes: ['ADM_RATE_LIMITED'],
      level: 'warn',
      meaning:
        'a request the login limits refuse was answered 429 without checking its password (`reason`, `ms`)',
    },
    {
      codes: ['ADM_LIMIT_UNAVAILABLE'],
      level: 'error',
      meaning:
        'Redis did not answer the login limits (`errName`): answered 503 `ADM_UNAVAILABLE` (fail closed)',
    },
    {
      codes: ['ADM_INTERNAL_ERROR'],
      level: 'error',
      meaning: 'an unexpected error in an admin request (`errName`)',
    },
  ],
} as const satisfies LogEventSection;

export const CONSOLE_EVENTS = {
  title: "Practitioner's console (`CON_*`; see [console.md](console.md))",
  intro: "`user` is the login given, `remote` the peer's IP; never a password, never an access code.",
  events: [
    { codes: ['CON_SIGNED_IN'], level: 'info', meaning: 'a practitioner signed in to the console' },
    { codes: ['CON_SIGNED_OUT'], level: 'info', meaning: 'a practitioner signed out' },
    {
      codes: ['CON_AUTH_FAILED'],
      level: 'warn',
      meaning: 'a failed console sign-in (`reason`: `bad-password`, `disabled`, `unknown-user`)',
    },
    {
      codes: ['CON_RATE_LIMITED'],
      level: 'warn',
      meaning: 'a sign-in the login limits refuse was answered 429 without checking its password',
    },
    {
      codes: ['CON_LIMIT_UNAVAILABLE'],
      level: 'error',
      meaning: 'Redis did not answer the login limits (`errName`): answered 503 (fail closed)',
    },
    { codes: ['CON_TOTP_ENABLED'], level: 'info', meaning: 'she turned two-factor sign-in (TOTP) on' },
    {
      codes: ['CON_CODE_REISSUED'],
      level: 'info',
      meaning:
        'she issued a new code for the contact of an unreadable code line (`count`: messages to resend)',
    },
    {
      codes: ['CON_CONTACT_ENROLLED'],
      level: 'info',
      meaning: 'she enrolled a client in person (`contact`: the new contact id; never the code)',
    },
    {
      codes: ['CON_PASSWORD_CHANGED'],
      level: 'info',
      meaning: 'she changed her password in the console (her console key re-locked by her browser)',
    },
    {
      codes: ['CON_PASSWORD_WRONG'],
      level: 'warn',
      meaning: 'a password change with a wrong current password (counted as a failed login)',
    },
    {
      codes: ['CON_TOTP_ENROL'],
      level: 'info',
      meaning:
        'an admin without TOTP gave the right password: a new secret was shown for enrolment (no session)',
    },
    {
      codes: ['CON_ADMIN_ACTION'],
      level: 'info',
      meaning:
        'an admin changed something in the console (`category`: the action, `user`: the admin); the subject is in the audit trail',
    },
    {
      codes: ['CON_PASSWORD_SET'],
      level: 'info',
      meaning: 'a user set her password through a one-time link',
    },
    {
      codes: ['CON_TOTP_WRONG'],
      level: 'warn',
      meaning: 'a wrong or reused TOTP code at sign-in or enrolment (counted as a failed login at sign-in)',
    },
    {
      codes: ['CON_FORBIDDEN'],
      level: 'warn',
      meaning: 'a signed-in user without the admin role asked for an admin route (answered 403)',
    },
    {
      codes: ['CON_CODE_HANDED_OVER'],
      level: 'info',
      meaning: 'a waiting access code was marked handed over and deleted (`id`)',
    },
    {
      codes: ['CON_PICKUP_WITHDRAWN'],
      level: 'info',
      meaning: 'she withdrew a pickup in her console: its ciphertext was deleted (`id`: the pickup)',
    },
    {
      codes: ['CON_QUEUE_RETRY_FAILED'],
      level: 'warn',
      meaning:
        'the queue screen could not wake a delivery job (`id`, `errName`); the row is due and reconcile enqueues it',
    },
    {
      codes: ['CON_REPLY_READ'],
      level: 'info',
      meaning:
        'a kept pickup reply was decrypted for her console answer (`id`, `verdict`); nothing decrypted is stored',
    },
    {
      codes: ['CON_REPLY_DELETED'],
      level: 'info',
      meaning: 'she deleted a kept pickup reply (`id`)',
    },
    {
      codes: ['CON_INTERNAL_ERROR'],
      level: 'error',
      meaning: 'an unexpected error in a console request (`errName`)',
    },
  ],
} as const satisfies LogEventSection;
