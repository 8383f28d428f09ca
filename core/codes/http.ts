/**
 * HTTP answers of the webmail: `{ code, message }` with the status below. `message` is what the API
 * answers; `meaning` is for docs/codes.md only (when the code is answered).
 */
export interface HttpCodeRow {
  readonly status: number;
  readonly message: string;
  readonly meaning: string;
}

/** The pickup API (webmail/api/, docs/pickup.md). */
export const PICKUP_HTTP_CODES = {
  PU_NOT_FOUND: {
    status: 404,
    message: 'No such message',
    meaning: "no such pickup (or not this contact's)",
  },
  PU_EXPIRED: {
    status: 410,
    message: 'This message has expired and was deleted',
    meaning: 'the pickup expired and was deleted',
  },
  PU_WITHDRAWN: {
    status: 410,
    message: 'This message was withdrawn by the sender',
    meaning: 'the sender withdrew the pickup in her console; its ciphertext was deleted',
  },
  PU_BAD_REQUEST: { status: 400, message: 'The request is malformed', meaning: 'malformed body' },
  PU_BAD_CODE: {
    status: 401,
    message: 'The access code is not correct',
    meaning: 'wrong access code; `attemptsLeft` says how many remain',
  },
  PU_LOCKED: {
    status: 423,
    message: 'Too many wrong codes: ask the sender for a new access code',
    meaning: 'five wrong codes: the sender or admin must re-issue or unlock',
  },
  PU_TOO_MANY_WRONG_CODES: {
    status: 429,
    message:
      'Too many wrong codes from this address: wait until retryAfterSeconds have passed, then try again',
    meaning:
      '`pickup.unlockAttemptsPerIp` wrong codes from this address in 15 minutes: every unlock waits (`retryAfterSeconds`, `Retry-After`)',
  },
  PU_NO_SESSION: {
    status: 401,
    message: 'Not signed in, or the session has ended',
    meaning: 'no session, or it ended',
  },
  PU_BAD_ORIGIN: {
    status: 403,
    message: 'Cross-origin requests are refused',
    meaning: 'a POST from another origin',
  },
  PU_NEEDS_JSON: {
    status: 415,
    message: 'Send application/json',
    meaning: 'a POST that is not `application/json`',
  },
  PU_REPLY_INVALID: {
    status: 400,
    message: "The reply is not an OpenPGP message to the sender's key",
    meaning: "the reply is not an OpenPGP message to the sender's current key",
  },
  PU_REPLY_TOO_BIG: {
    status: 413,
    message: 'The reply is too big',
    meaning: 'the reply exceeds `pickup.maxReplyBytes`',
  },
  PU_REPLY_LIMIT: {
    status: 429,
    message: 'Too many replies today, try again tomorrow',
    meaning: 'more than `pickup.maxRepliesPerDay` replies in 24 hours',
  },
  PU_SECRET_INVALID: {
    status: 400,
    message: 'The new secret is not acceptable',
    meaning: 'a new secret with weaker KDF parameters or wrong sizes',
  },
  PU_KEY_INVALID: {
    status: 400,
    message: 'The key cannot be used',
    meaning: "an uploaded key that is unusable or lacks the contact's address",
  },
  PU_INTERNAL: {
    status: 500,
    message: 'Internal error; nothing was changed',
    meaning: 'an internal error; nothing was changed',
  },
  PU_UNAVAILABLE: {
    status: 503,
    message: 'Temporarily unavailable, try again shortly',
    meaning: 'temporarily unavailable (e.g. Redis did not answer the wrong-code limit)',
  },
} as const satisfies Record<string, HttpCodeRow>;

/** The admin API (webmail/admin*.ts, docs/admin-api.md). */
export const ADMIN_HTTP_CODES = {
  ADM_AUTH_REQUIRED: {
    status: 401,
    message: 'Sign in with a Sealpost administrator account (HTTP Basic)',
    meaning: 'no credentials, or an unreadable `Authorization` header',
  },
  ADM_AUTH_FAILED: {
    status: 401,
    message: 'Login or password is not correct',
    meaning: 'wrong login or password, or a disabled account (one answer for all three)',
  },
  ADM_FORBIDDEN: {
    status: 403,
    message: 'This account is not a Sealpost administrator',
    meaning: 'a valid login without `is_admin`',
  },
  ADM_TLS_REQUIRED: {
    status: 403,
    message: 'The admin API is served over HTTPS only (or to a client on this machine)',
    meaning: 'plain HTTP from a peer that is not loopback: the password must not cross in clear',
  },
  ADM_RATE_LIMITED: {
    status: 429,
    message: 'Too many failed logins from this address, try again later',
    meaning:
      'the login limits of SMTP AUTH refuse this login from this address (`retryAfterSeconds`, `Retry-After`)',
  },
  ADM_BAD_REQUEST: {
    status: 400,
    message: 'The request is malformed',
    meaning: 'a malformed query (status filter, explain addresses)',
  },
  ADM_NOT_FOUND: { status: 404, message: 'No such key change', meaning: 'no such key change' },
  ADM_NOT_HELD: {
    status: 409,
    message: 'This key change was already decided',
    meaning: 'the key change was already decided',
  },
  ADM_UNAVAILABLE: {
    status: 503,
    message: 'Not available in this process, try again later',
    meaning: 'explain is not wired in this process, or the user database or Redis did not answer',
  },
  ADM_INTERNAL: {
    status: 500,
    message: 'Internal error; nothing was changed',
    meaning: 'an internal error; nothing was changed',
  },
} as const satisfies Record<string, HttpCodeRow>;

/** The practitioner's console API (webmail/console-api/, docs/console.md). */
export const CONSOLE_HTTP_CODES = {
  CON_AUTH_REQUIRED: {
    status: 401,
    message: 'Please sign in',
    meaning: 'no session, or the session ended (idle, too old, signed out)',
  },
  CON_AUTH_FAILED: {
    status: 401,
    message: 'Address or password is not correct',
    meaning: 'wrong address or password, or a disabled account (one answer for all three)',
  },
  CON_RATE_LIMITED: {
    status: 429,
    message: 'Too many failed sign-ins from this address, try again later',
    meaning:
      'the login limits of SMTP AUTH refuse this login from this address (`retryAfterSeconds`, `Retry-After`)',
  },
  CON_TOTP_REQUIRED: {
    status: 401,
    message: 'Enter the code from your authenticator app',
    meaning: 'her second factor is on and the sign-in carried no TOTP code',
  },
  CON_TOTP_WRONG: {
    status: 401,
    message: 'The code from your authenticator app is not correct',
    meaning: 'a wrong or already used TOTP code (counted as a failed login)',
  },
  CON_TOTP_ENABLED: {
    status: 409,
    message: 'Two-factor sign-in is already on',
    meaning: 'enrolment asked for while her second factor is on (an admin resets it)',
  },
  CON_PASSWORD_WRONG: {
    status: 403,
    message: 'The current password is not correct',
    meaning: 'a password change with a wrong current password (counted as a failed login)',
  },
  CON_PASSWORD_TOO_SHORT: {
    status: 400,
    message: 'The new password is too short',
    meaning: 'a new password shorter than `user add` accepts (10 characters)',
  },
  CON_KEY_CHANGED: {
    status: 409,
    message: 'Your console key changed meanwhile; please sign in again',
    meaning:
      'a password change re-locked a console key that is no longer hers (a reset by the admin meanwhile)',
  },
  CON_TOTP_ENROL: {
    status: 401,
    message: 'Set up two-factor sign-in: scan the QR code, then enter a code',
    meaning:
      'an admin without TOTP signed in with the right password: no session; the answer carries a new secret (`uri`, `qr`) to confirm with a code at the next sign-in',
  },
  CON_EXISTS: { status: 409, message: 'This user exists already', meaning: 'user add for a login in use' },
  CON_ADDRESS_TAKEN: {
    status: 409,
    message: 'This address belongs to a user already',
    meaning: 'a sender address (or login) that another user sends as',
  },
  CON_WEAK_PASSWORD: {
    status: 400,
    message: 'The password is too short (at least 10 characters)',
    meaning: 'a password shorter than the minimum',
  },
  CON_LINK_INVALID: {
    status: 404,
    message: 'This link is not valid (used, expired or unknown)',
    meaning: 'a one-time link to set a password that is used up, expired or unknown',
  },
  CON_CONTACT_EXISTS: {
    status: 409,
    message: 'This address is already a secure contact; its code was issued before',
    meaning:
      'enrolment of an address that already is a pickup contact (its code is not shown again; `issue a new code` or `sealpost contact code` makes a new one)',
  },
  CON_BAD_REQUEST: { status: 400, message: 'The request is malformed', meaning: 'malformed body or id' },
  CON_BAD_ORIGIN: {
    status: 403,
    message: 'Cross-origin requests are refused',
    meaning: 'a POST from another origin (CSRF)',
  },
  CON_NEEDS_JSON: {
    status: 415,
    message: 'Send JSON',
    meaning: 'a POST that is not `application/json`',
  },
  CON_NOT_FOUND: {
    status: 404,
    message: 'Not found',
    meaning:
      "no such route, or no such item (code, message, contact…) of the signed-in user (another one's is not found either)",
  },
  CON_NOT_HELD: {
    status: 409,
    message: 'This key change was already decided',
    meaning: 'approve or reject of a key change that is no longer held',
  },
  CON_KEY_INVALID: {
    status: 400,
    message: 'This is not an OpenPGP key that can be used',
    meaning: 'a key upload (import) that holds no usable OpenPGP key',
  },
  CON_KEY_STATE: {
    status: 409,
    message: 'The key is not in a state for this action',
    meaning:
      'a sender key already revoked, a rotation for an address without a key, a recipient key already pinned (docs/admin-console.md)',
  },
  CON_FORBIDDEN: {
    status: 403,
    message: 'This needs the admin role',
    meaning: 'an admin route asked for by a signed-in user without the admin role',
  },
  CON_UNAVAILABLE: {
    status: 503,
    message: 'Not available right now, try again later',
    meaning: 'Redis (the login limits) or the database did not answer: nobody is signed in (fail closed)',
  },
  CON_INTERNAL: {
    status: 500,
    message: 'Internal error; nothing was changed',
    meaning: 'an internal error; nothing was changed',
  },
} as const satisfies Record<string, HttpCodeRow>;
