import type { LogEventSection } from '../events.ts';

/** Log events of the services: start, stop, submission, delivery, pickup (docs/codes.md). */
export const SERVICE_EVENTS = {
  title: 'Services',
  intro: '',
  events: [
    {
      codes: ['SYS_REDIS_STARTED'],
      level: 'info',
      meaning: 'the local `redis-server` answers on its socket (`pid`)',
    },
    {
      codes: ['SYS_REDIS_SHARED'],
      level: 'info',
      meaning: 'another living Sealpost process on this data folder owns the local `redis-server`; shared',
    },
    {
      codes: ['SYS_REDIS_EXITED'],
      level: 'error',
      meaning: 'the owned `redis-server` died (`errName`: the signal or `exit-<code>`); a restart follows',
    },
    {
      codes: ['SYS_REDIS_RESTARTED'],
      level: 'warn',
      meaning: 'the owned `redis-server` was started again (`pid`, `attempt`)',
    },
    {
      codes: ['SYS_REDIS_RESTART_FAILED'],
      level: 'error',
      meaning: 'a restart failed (`attempt`, `errName`); tried again after the backoff',
    },
    {
      codes: ['SYS_REDIS_ORPHAN_STOPPED'],
      level: 'warn',
      meaning: 'a `redis-server` whose owner is dead (after a SIGKILL) was stopped before a new one started',
    },
    {
      codes: ['SYS_DATA_DIR_MODE_FIXED'],
      level: 'warn',
      meaning:
        'a file or folder in the data folder was readable by others and was made private (`path`, `mode`)',
    },
    {
      codes: ['SYS_DB_CONNECTION_LOST'],
      level: 'warn',
      meaning: 'PostgreSQL closed an idle pooled connection (a restart); the next query opens a new one',
    },
    { codes: ['SYS_STARTED'], level: 'info', meaning: 'every requested service runs (`service`)' },
    { codes: ['SYS_GATEWAY_LISTENING'], level: 'info', meaning: 'a submission listener is bound (`port`)' },
    { codes: ['SYS_WORKER_STARTED'], level: 'info', meaning: 'delivery workers run' },
    { codes: ['SYS_WEBMAIL_LISTENING'], level: 'info', meaning: 'the webmail listens (`port`)' },
    {
      codes: ['SYS_OPS_LISTENING'],
      level: 'info',
      meaning:
        'a process without the webmail answers `/healthz`, `/readyz` and `/metrics` on the HTTP port (`port`)',
    },
    {
      codes: ['SYS_SUPERVISING'],
      level: 'info',
      meaning: '`sealpost start` (no service) runs gateway, worker and webmail as child processes',
    },
    {
      codes: ['SYS_CHILD_EXITED'],
      level: 'error',
      meaning:
        'a child of `sealpost start` died (`service`, `errName`): the others are stopped, the supervisor exits 1',
    },
    {
      codes: ['SYS_PARENT_GONE'],
      level: 'error',
      meaning: 'the supervisor of this child process is gone (killed): the child stops as on SIGTERM',
    },
    {
      codes: ['SYS_START_FAILED'],
      level: 'error',
      meaning: 'start aborted (`errName`); the message is printed on stderr',
    },
    {
      codes: ['SYS_STOPPING', 'SYS_STOPPED', 'SYS_STOP_FAILED'],
      level: 'info/error',
      meaning: 'shutdown on a signal',
    },
    {
      codes: ['SYS_STOP_TIMEOUT'],
      level: 'warn',
      meaning: 'one part did not close within its deadline on shutdown (`service`, `ms`); left behind',
    },
    {
      codes: ['SYS_STOP_FORCED'],
      level: 'error',
      meaning: 'the process exits 9.5 s after the signal with parts still closing (exit code 1)',
    },
    {
      codes: ['CFG_MASTER_KEY_CREATED'],
      level: 'warn',
      meaning: '`data/master.key` was created: back it up',
    },
    {
      codes: ['CFG_TLS_SELF_SIGNED'],
      level: 'warn',
      meaning: 'SMTP uses the self-signed certificate in `data/tls/`',
    },
    {
      codes: ['CFG_LOCALHOST'],
      level: 'warn',
      meaning: 'the hostname or public URL is localhost: pickup links and notifications would name it',
    },
    {
      codes: ['KEY_SENDER_STORED'],
      level: 'info',
      meaning: 'a sender key was generated or imported (`fingerprint`)',
    },
    {
      codes: ['KEY_SENDER_REVOKED'],
      level: 'info',
      meaning:
        'a sender key was revoked (`fingerprint`; audit `sender-key.revoked`): it never signs again, its address sends only with a new key',
    },
    {
      codes: ['KEY_SECRET_EXPORTED'],
      level: 'warn',
      meaning:
        '`key export --secret` wrote a private sender key, locked with a passphrase (`user`, `fingerprint`; audit `key.export-secret`); warn so that it shows on stderr and in any log',
    },
    {
      codes: ['CLI_PASSPHRASE_EMPTY', 'CLI_PASSPHRASE_MISMATCH'],
      level: '—',
      meaning:
        '`key export --secret` refused an empty passphrase, or two that differ: nothing exported, exit code 65 (printed as `sealpost: CODE: …`)',
    },
    {
      codes: ['CLI_NO_SENDER_KEY'],
      level: '—',
      meaning: '`key export --secret` for an address without a sender key: exit code 65',
    },
    {
      codes: ['CLI_BACKUP_EXISTS', 'CLI_BACKUP_NO_DATABASE'],
      level: '—',
      meaning:
        '`sealpost backup FILE`: FILE exists already (never overwritten), or there is no SQLite database to copy: exit code 65',
    },
    {
      codes: ['CLI_MASTER_KEY_UNKNOWN'],
      level: '—',
      meaning:
        '`master-key rotate`: rows no configured key opens (on stderr by table, column, key; never content); the others are re-sealed: exit code 65',
    },
    {
      codes: ['CLI_RESTORE_NOT_EMPTY'],
      level: '—',
      meaning:
        '`sealpost restore FILE` into a data folder with a database, or a PostgreSQL database with tables: nothing restored, exit code 65',
    },
    {
      codes: ['CLI_PG_TOOL_MISSING', 'CLI_PG_TOOL_FAILED'],
      level: '—',
      meaning:
        '`pg_dump` / `pg_restore` is not installed, or it failed (its message follows): exit code 65 (docs/backup.md)',
    },
    { codes: ['GW_AUTH_OK'], level: 'info', meaning: 'a sender logged in' },
    {
      codes: ['GW_CONSOLE_KEY_CREATED'],
      level: 'info',
      meaning: "a sender's console key was made at her login (`user`, `fingerprint`; docs/console.md)",
    },
    {
      codes: ['GW_CONSOLE_KEY_FAILED'],
      level: 'error',
      meaning:
        'her console key could not be made at login (`errName`); a new contact of hers is refused 451 `GW_CONSOLE_KEY_MISSING` until it is',
    },
    {
      codes: ['GW_RCPT_VERDICT'],
      level: 'info',
      meaning: "the policy's verdict for one recipient (`verdict`, `reason`)",
    },
    {
      codes: ['GW_MESSAGE_AMBIGUOUS', 'IN_MESSAGE_AMBIGUOUS'],
      level: 'info',
      meaning: 'the edge refused a message (`reason`, see gateway.md "One reading of a message")',
    },
    {
      codes: ['GW_HEADER_TOO_BIG', 'IN_HEADER_TOO_BIG'],
      level: 'info',
      meaning: 'the edge refused a header section over 256 KiB or 1000 fields',
    },
    {
      codes: ['GW_FROM_NOT_ALLOWED'],
      level: 'warn',
      meaning: "header From/Sender not one of the user's addresses (`user`, `reason`, see gateway.md)",
    },
    {
      codes: ['GW_KEY_LOOKUP_FAILED'],
      level: 'warn',
      meaning: 'the key lookup threw: the recipient is deferred (4xx)',
    },
    {
      codes: ['GW_ENQUEUE_FAILED'],
      level: 'warn',
      meaning: 'committed but not enqueued (Redis down): reconcile will enqueue it',
    },
    {
      codes: ['GW_CHUNKS_LEFT'],
      level: 'warn',
      meaning:
        "a failed message's spool chunks could not be dropped (`id`): the worker's sweep drops them after an hour",
    },
    {
      codes: ['GW_INTERNAL_ERROR'],
      level: 'error',
      meaning: 'an unexpected error in a stage: answered 451, nothing stored',
    },
    { codes: ['GW_SERVER_ERROR'], level: 'warn', meaning: 'a listener reported a socket error' },
    {
      codes: ['GW_AUTH_FAILED'],
      level: 'warn',
      meaning: 'a wrong password (`user`, `remote`; `ms`: the wait it starts for that login there)',
    },
    {
      codes: ['GW_AUTH_RATE_LIMITED'],
      level: 'warn',
      meaning: 'AUTH refused before the password check (`reason`, `ms`: see gateway.md "Login limits")',
    },
    {
      codes: ['GW_AUTH_LIMIT_UNAVAILABLE'],
      level: 'error',
      meaning: 'Redis did not answer the login limits (`errName`): AUTH answered 454 (fail closed)',
    },
    {
      codes: ['GW_TOO_MANY_CONNECTIONS'],
      level: 'warn',
      meaning: 'over `limits.maxConnectionsPerIp` from `remote`: 421 (logged once a minute per address)',
    },
    { codes: ['DLV_STARTED'], level: 'info', meaning: 'the worker started' },
    { codes: ['DLV_DEFERRED'], level: 'info', meaning: 'a temporary failure; next attempt scheduled' },
    {
      codes: ['DLV_MARK_RETRY'],
      level: 'warn',
      meaning: 'recording an outcome in the database failed; retried',
    },
    { codes: ['DLV_DSN_QUEUED'], level: 'info', meaning: 'a bounce (DSN) to the sender was committed' },
    {
      codes: ['DLV_CHUNKS_SWEPT'],
      level: 'info',
      meaning:
        'spool chunks of no queued row, older than an hour, were deleted (`count`; a message that died)',
    },
    {
      codes: ['DLV_CHUNKS_SWEEP_FAILED'],
      level: 'warn',
      meaning: 'the sweep of orphaned spool chunks failed (`errName`); the next maintenance tick tries again',
    },
    {
      codes: ['DLV_ENQUEUE_FAILED'],
      level: 'warn',
      meaning: 'a job could not be added; reconcile will add it',
    },
    { codes: ['DLV_RECONCILED'], level: 'info', meaning: 'reconcile (re-)added jobs (`count`)' },
    {
      codes: ['DLV_RECONCILE_BUSY'],
      level: 'debug',
      meaning: 'reconcile skipped: another run is in progress',
    },
    {
      codes: ['DLV_PROMOTE_SKIPPED'],
      level: 'debug',
      meaning: 'a delayed job could not be promoted (it moved meanwhile)',
    },
    {
      codes: ['DLV_QUEUE_ERROR', 'DLV_WORKER_ERROR'],
      level: 'error',
      meaning: 'BullMQ reported an error (connection, script)',
    },
    {
      codes: ['DLV_CLOSE_FORCED'],
      level: 'warn',
      meaning: 'on shutdown, running deliveries did not finish in time; they are retried by the next worker',
    },
    {
      codes: ['DLV_ALREADY_ACCEPTED'],
      level: 'warn',
      meaning: 'a retried copy had been accepted by the relay before a crash: recorded, not sent again',
    },
    {
      codes: ['DLV_ACCEPTED_MARK_FAILED'],
      level: 'warn',
      meaning: 'the "relay accepted" mark could not be read or written in Redis; delivery goes on without it',
    },
    {
      codes: ['WEB_NOT_READY'],
      level: 'warn',
      meaning:
        '`/readyz` answered 503 (`reason`: the failed checks, e.g. `redis`, `migrations`); also its body code',
    },
    { codes: ['WEB_NOT_FOUND'], level: '—', meaning: 'HTTP 404 body code' },
    {
      codes: ['WEB_INTERNAL_ERROR'],
      level: 'error',
      meaning: 'an unexpected error in a webmail request (`errName`): answered 500 `PU_INTERNAL`',
    },
    {
      codes: ['WEB_WKD_SERVED'],
      level: 'debug',
      meaning: 'the Web Key Directory served a key or policy file (`bytes`)',
    },
    {
      codes: ['WEB_WKD_UNAVAILABLE'],
      level: 'error',
      meaning: 'a WKD request failed (`errName`): answered 503 with this code',
    },
    {
      codes: ['DLV_REPLY_NOT_DECRYPTED'],
      level: 'warn',
      meaning:
        'a pickup reply could not be opened (`problem`), or failed the edge or `From:` check: sent on still encrypted, marked `not-decrypted`',
    },
    {
      codes: ['DLV_REPLY_DECRYPTED'],
      level: 'info',
      meaning:
        'a pickup reply was opened with the sender key for the practice (`verdict`: the signature state; `service`: `inbound-relay` or `relay`)',
    },
    { codes: ['PU_UNLOCKED'], level: 'info', meaning: 'a contact unlocked (`contact` id)' },
    {
      codes: ['PU_BAD_CODE', 'PU_LOCKED'],
      level: 'warn',
      meaning: 'a wrong access code (`count` failures); the fifth locks the contact',
    },
    {
      codes: ['PU_TOO_MANY_WRONG_CODES'],
      level: 'warn',
      meaning: '`pickup.unlockAttemptsPerIp` wrong codes from one address: unlock refused (`ms` to wait)',
    },
    {
      codes: ['PU_LIMIT_UNAVAILABLE'],
      level: 'error',
      meaning: 'Redis did not answer the wrong-code limit (`errName`): unlock answered 503 (fail closed)',
    },
    {
      codes: ['PU_SECRET_CHANGED'],
      level: 'info',
      meaning: 'a contact replaced the access code with an own passphrase',
    },
    {
      codes: ['PU_KEY_REGISTERED'],
      level: 'info',
      meaning: 'a contact uploaded an own OpenPGP key (`fingerprint`): PGP/MIME from now on',
    },
    {
      codes: ['PU_REPLY_ACCEPTED', 'PU_ENQUEUE_FAILED'],
      level: 'info/warn',
      meaning: 'a pickup reply was spooled for the sender (and enqueued, or left to reconcile)',
    },
    {
      codes: ['PU_UNSEAL_FAILED'],
      level: 'error',
      meaning: 'a stored pickup could not be opened with the master key',
    },
    {
      codes: ['PU_EXPIRED'],
      level: 'info',
      meaning: 'the expiry job deleted pickups (`count`); also the HTTP 410 body code',
    },
  ],
} as const satisfies LogEventSection;
