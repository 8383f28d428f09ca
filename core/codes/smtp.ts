/** One SMTP reply: the basic and enhanced status (RFC 3463) and the text; never built at call sites. */
export interface SmtpCodeRow {
  readonly smtp: number;
  readonly enhanced: string;
  readonly text: string;
  /** For docs/codes.md only: what the detail in parentheses holds, or when the code applies. */
  readonly note?: string;
}

/**
 * SMTP replies: every reply either listener gives, and the delivery outcomes recorded with the same shape.
 * A reply reads `<smtp> <enhanced> <text> (<detail>) [<CODE>]`; `note` is for docs/codes.md only (what the
 * detail holds, when the code applies).
 */
export const SMTP_CODES = {
  GW_TLS_REQUIRED: { smtp: 538, enhanced: '5.7.11', text: 'Encryption required: use STARTTLS before AUTH' },
  GW_AUTH_FAILED: { smtp: 535, enhanced: '5.7.8', text: 'Authentication credentials invalid' },
  GW_AUTH_RATE_LIMITED: { smtp: 454, enhanced: '4.7.0', text: 'Too many failed logins, try again later' },
  GW_AUTH_REQUIRED: { smtp: 530, enhanced: '5.7.0', text: 'Authentication required' },
  GW_AUTH_LIMIT_UNAVAILABLE: {
    smtp: 454,
    enhanced: '4.7.0',
    text: 'Temporary authentication failure (login limits cannot be checked), try again later',
  },
  GW_TOO_MANY_CONNECTIONS: {
    smtp: 421,
    enhanced: '4.7.0',
    text: 'Too many connections from your address, try again later',
  },
  GW_SENDER_NOT_ALLOWED: { smtp: 553, enhanced: '5.7.1', text: 'You may not send as this address' },
  GW_TOO_MANY_RECIPIENTS: { smtp: 452, enhanced: '4.5.3', text: 'Too many recipients in one message' },
  GW_NO_KEY: {
    smtp: 550,
    enhanced: '5.7.1',
    text: 'No usable OpenPGP key for this recipient; Sealpost does not send in clear',
  },
  GW_KEY_EXPIRED: {
    smtp: 550,
    enhanced: '5.7.1',
    text: "The recipient's OpenPGP key has expired; Sealpost does not send in clear",
  },
  GW_KEY_REVOKED: {
    smtp: 550,
    enhanced: '5.7.1',
    text: "The recipient's OpenPGP key is revoked; Sealpost does not send in clear",
  },
  GW_KEY_WEAK: {
    smtp: 550,
    enhanced: '5.7.1',
    text: "The recipient's OpenPGP key is too weak; Sealpost does not send in clear",
  },
  GW_KEY_NO_ENCRYPTION: {
    smtp: 550,
    enhanced: '5.7.1',
    text: "The recipient's OpenPGP key cannot encrypt; Sealpost does not send in clear",
  },
  GW_POLICY_REJECT: { smtp: 550, enhanced: '5.7.1', text: 'A Sealpost policy rule refuses this recipient' },
  GW_CONSOLE_KEY_MISSING: {
    smtp: 451,
    enhanced: '4.7.0',
    text: 'Your console key is not ready (log in again), the access code cannot be kept for you yet',
  },
  GW_DEFER: { smtp: 451, enhanced: '4.7.1', text: 'Recipient key status unknown, try again later' },
  GW_NO_SENDER_KEY: {
    smtp: 451,
    enhanced: '4.7.0',
    text: 'No signing key for this sender yet; ask the Sealpost admin to run: sealpost key generate',
  },
  GW_BAD_ADDRESS: { smtp: 501, enhanced: '5.1.3', text: 'Bad address syntax' },
  GW_SIZE_EXCEEDED: { smtp: 552, enhanced: '5.3.4', text: 'Message too big for Sealpost' },
  GW_MESSAGE_INVALID: { smtp: 550, enhanced: '5.6.0', text: 'Message has no valid header section' },
  GW_MESSAGE_AMBIGUOUS: {
    smtp: 550,
    enhanced: '5.6.0',
    text: 'Message refused: its header could be read in more than one way',
    note: '(detail: the problem)',
  },
  GW_HEADER_TOO_BIG: {
    smtp: 552,
    enhanced: '5.3.4',
    text: 'Header section too big (256 KiB or 1000 fields)',
  },
  GW_FROM_NOT_ALLOWED: {
    smtp: 553,
    enhanced: '5.7.1',
    text: 'The From and Sender headers must each be one of your own addresses',
    note: '(detail: the problem)',
  },
  GW_TEMP_FAILURE: {
    smtp: 451,
    enhanced: '4.3.0',
    text: 'Temporary failure; nothing was sent, please try again later',
  },
  GW_ACCEPTED: {
    smtp: 250,
    enhanced: '2.0.0',
    text: 'Accepted and queued; nothing leaves in clear',
    note: '(detail: copies per way, batch id)',
  },
  GW_ACCEPTED_PLAIN: {
    smtp: 250,
    enhanced: '2.0.0',
    text: 'Accepted and queued; a policy rule lets some copies go in clear, over TLS only',
    note: '(detail: as above)',
  },
  DLV_DELIVERED: { smtp: 250, enhanced: '2.0.0', text: 'Delivered' },
  DLV_DEFER_NETWORK: { smtp: 451, enhanced: '4.4.1', text: 'Remote server unreachable' },
  DLV_DEFER_TEMPORARY: {
    smtp: 451,
    enhanced: '4.0.0',
    text: 'Remote server answered with a temporary failure',
  },
  DLV_DEFER_TLS: {
    smtp: 451,
    enhanced: '4.7.5',
    text: 'TLS could not be established with the remote server',
  },
  DLV_REJECT_RECIPIENT: { smtp: 550, enhanced: '5.1.1', text: 'Remote server refused the recipient' },
  DLV_REJECT_POLICY: { smtp: 550, enhanced: '5.7.1', text: 'Remote server refused the message by policy' },
  DLV_REJECT_SIZE: { smtp: 552, enhanced: '5.3.4', text: 'Remote server refused the message size' },
  DLV_REJECT_PERMANENT: {
    smtp: 550,
    enhanced: '5.0.0',
    text: 'Remote server refused the message permanently',
  },
  DLV_EXPIRED: { smtp: 550, enhanced: '5.4.7', text: 'Delivery time expired' },
  DLV_BOUNCED: { smtp: 550, enhanced: '5.0.0', text: 'Delivery failed, DSN sent to the sender' },
  DLV_CANCELLED: {
    smtp: 550,
    enhanced: '5.0.0',
    text: 'The administrator cancelled the delivery, DSN sent to the sender',
  },
  DLV_DEFER_AUTH: { smtp: 451, enhanced: '4.7.0', text: 'The relay refused our credentials' },
  DLV_DEFER_INTERNAL: { smtp: 451, enhanced: '4.3.0', text: 'Internal error during delivery, will retry' },
  DLV_SPOOL_UNREADABLE: {
    smtp: 451,
    enhanced: '4.3.0',
    text: 'The stored message cannot be opened (another master key?), will retry until expiry',
  },
  CFG_INVALID: { smtp: 451, enhanced: '4.3.5', text: 'Configuration invalid' },
  CFG_MASTER_KEY_CREATED: { smtp: 250, enhanced: '2.0.0', text: 'Master key file created' },
  KEY_INVALID: { smtp: 550, enhanced: '5.7.1', text: 'Key rejected' },
  GW_AUTH_TEMP_FAILURE: {
    smtp: 454,
    enhanced: '4.7.0',
    text: 'Temporary authentication failure, try again later',
  },
  GW_KEY_LOOKUP_TIMEOUT: {
    smtp: 451,
    enhanced: '4.4.3',
    text: "The recipient's key directory did not answer in time; try again later",
    note: '(`discovery.onTimeout: defer`)',
  },
  GW_KEY_HELD: {
    smtp: 451,
    enhanced: '4.7.1',
    text: "The recipient's key changed and waits for the admin's approval; try again later",
    note: '(only with pickup off)',
  },
  IN_RELAY_DENIED: {
    smtp: 550,
    enhanced: '5.7.1',
    text: 'Relaying denied: this server accepts mail only for its own domains',
  },
  IN_UNKNOWN_RECIPIENT: { smtp: 550, enhanced: '5.1.1', text: 'No such recipient here' },
  IN_BAD_ADDRESS: { smtp: 501, enhanced: '5.1.3', text: 'Bad address syntax' },
  IN_TOO_MANY_RECIPIENTS: { smtp: 452, enhanced: '4.5.3', text: 'Too many recipients in one message' },
  IN_SIZE_EXCEEDED: { smtp: 552, enhanced: '5.3.4', text: 'Message too big' },
  IN_MESSAGE_INVALID: { smtp: 550, enhanced: '5.6.0', text: 'Message has no valid header section' },
  IN_MESSAGE_AMBIGUOUS: {
    smtp: 550,
    enhanced: '5.6.0',
    text: 'Message refused: its header could be read in more than one way',
    note: '(detail: the problem)',
  },
  IN_HEADER_TOO_BIG: {
    smtp: 552,
    enhanced: '5.3.4',
    text: 'Header section too big (256 KiB or 1000 fields)',
  },
  IN_DECOMPRESSION_LIMIT: {
    smtp: 552,
    enhanced: '5.3.4',
    text: 'The encrypted content decompresses to more than this server accepts',
  },
  IN_RELAY_UNAVAILABLE: {
    smtp: 451,
    enhanced: '4.4.1',
    text: 'The mail server behind this gateway is unreachable; nothing was stored, try again later',
  },
  IN_RELAY_DEFERRED: {
    smtp: 451,
    enhanced: '4.0.0',
    text: 'The mail server behind this gateway answered with a temporary failure; try again later',
  },
  IN_RELAY_REJECTED: {
    smtp: 550,
    enhanced: '5.0.0',
    text: 'The mail server behind this gateway refused the message',
  },
  IN_TEMP_FAILURE: {
    smtp: 451,
    enhanced: '4.3.0',
    text: 'Temporary failure; nothing was stored, please try again later',
  },
  IN_TOO_MANY_CONNECTIONS: {
    smtp: 421,
    enhanced: '4.7.0',
    text: 'Too many connections from your address, try again later',
  },
  IN_RELAYED: { smtp: 250, enhanced: '2.0.0', text: 'Delivered to the mail server behind this gateway' },
} as const satisfies Record<string, SmtpCodeRow>;
