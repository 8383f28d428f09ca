import { parseArgs } from 'node:util';
import { ConfigError } from '../core/config.ts';
import { privateUmask } from '../core/data-dir.ts';
import * as admin from './admin.ts';
import * as backup from './backup.ts';
import * as contact from './contact.ts';
import * as keyAdmin from './key-admin.ts';
import * as keys from './keys.ts';
import { masterKeyNew, masterKeyRotate } from './master-key.ts';
import * as settings from './settings.ts';
import { keyExportSecret } from './key-secret.ts';
import { CommandError, UsageError } from './io.ts';
import { SERVICES, start, type Service } from './start.ts';
import { supervise } from './supervisor.ts';

const USAGE = `usage: sealpost <command>

  start                               run gateway, worker and webmail as three processes (both cores)
  start all                           all three in this one process (small boxes, tests)
  start gateway|worker|webmail        one of them
  config show                         print the configuration, secrets redacted

  user add EMAIL [--admin] [--name N] add a sender (password on stdin); may send as EMAIL; --admin:
                                      also the admin console, TOTP enrolment printed once (QR + URI)
  user passwd EMAIL                   set a new password (on stdin)
  user alias EMAIL ADDRESS            let EMAIL also send as ADDRESS
  user list
  user disable EMAIL                  no SMTP AUTH, no console (her sessions end)
  user enable EMAIL                   undo user disable
  user totp-reset EMAIL               drop her TOTP (an admin enrols again at the next sign-in)

  key generate EMAIL [--name N]       generate the sender key of EMAIL (Ed25519/Cv25519), User ID
                                      "N <EMAIL>" (default N: the name given to user add)
  key rotate EMAIL [--name N]         a new sender key for EMAIL; the earlier one is kept for
                                      decrypting replies, WKD serves the new one
  key revoke EMAIL|FINGERPRINT        revoke a sender key (with its private key): it never signs
                                      again, WKD and export serve it with the revocation
  key import FILE|-                   import keys: private = sender key, public = recipient key
  key export EMAIL                    print the public key of EMAIL (armored)
  key export --secret EMAIL           print the private sender key of EMAIL (armored), locked with
                                      a passphrase asked twice (the first two lines of stdin when
                                      it is not a terminal)
  key list                            every sender key (active, retired, revoked) and recipient key
  key changes [--all]                 key changes waiting for a decision (--all: the whole history)
  key approve ID                      use the changed key (ID from key changes)
  key reject ID                       never use the changed key; the earlier key stays
  key pin EMAIL FINGERPRINT           pin a discovered or registered recipient key (asked first)
  key drop EMAIL FINGERPRINT          stop using a recipient key (discovery does not take it again)

  explain --from EMAIL --to EMAIL [--to EMAIL ...] [--json]
                                      per recipient: the verdict Sealpost would take now, and why
                                      (key, source, validity, rule); sends and records nothing

  policy set MATCH plain|reject [--note TEXT] [--reason TEXT]
                                      MATCH: user@domain, domain, .domain (with subdomains) or *;
                                      the note is shown in a reject rule's SMTP refusal, the
                                      reason (e.g. written consent) is kept with the rule
  policy remove MATCH
  policy list

  contact code EMAIL                  issue a new access code (and key pair) for a pickup contact
  contact unlock EMAIL                clear a contact's failed-code lock (the code stays the same)
  contact delete EMAIL [--yes]        GDPR erasure of a pickup contact and everything of theirs;
                                      without --yes it only counts what would be deleted
  contact list

  queue                               count the spool's messages by status

  settings [show]                     the settings an admin may change while Sealpost runs, each
                                      with its value and whether it was set in the console
  settings set KEY VALUE              KEY: practiceName (1-120 chars), language (de|en),
                                      retentionDays (1-3650), discovery (on|off),
                                      keyChange (hold|accept-and-log); overrides the configuration
                                      in every process within seconds, no restart
  settings reset KEY                  back to the configuration's value

  backup FILE                         a consistent copy of the database while it runs (SQLite), or
                                      pg_dump's custom format (PostgreSQL); not the master key
  restore FILE                        into an empty data folder / empty database (docs/backup.md)

  master-key new                      print a fresh master key (32 bytes, base64)
  master-key rotate                   re-seal every sealed row with SEALPOST_MASTER_KEY while the
                                      services run; the old key as SEALPOST_MASTER_KEY_PREVIOUS
                                      (docs/backup.md "Rotating the master key")

Environment: see docs/configuration.md (SEALPOST_DATA_DIR, DATABASE_URL, REDIS_URL, SEALPOST_RELAY, ...)`;

type Handler = (args: admin.ParsedArgs) => Promise<void> | void;

const COMMANDS: Record<string, Handler> = {
  'config show': () => admin.configShow(),
  'user add': admin.userAdd,
  'user passwd': admin.userPasswd,
  'user alias': admin.userAlias,
  'user list': admin.userList,
  'user disable': admin.userSwitch('disable'),
  'user enable': admin.userSwitch('enable'),
  'user totp-reset': admin.userSwitch('totp-reset'),
  'key generate': keyAdmin.keyGenerate,
  'key rotate': keyAdmin.keyRotate,
  'key revoke': keyAdmin.keyRevoke,
  'key pin': keyAdmin.keyPin,
  'key drop': keyAdmin.keyDrop,
  'key import': admin.keyImport,
  'key export': (args) => (args.flags.secret ? keyExportSecret(args) : admin.keyExport(args)),
  'key list': admin.keyList,
  'key changes': keys.keyChanges,
  'key approve': keys.keyApprove,
  'key reject': keys.keyReject,
  explain: keys.explainCommand,
  'policy set': admin.policySet,
  'policy remove': admin.policyRemove,
  'policy list': admin.policyList,
  'contact code': contact.contactCode,
  'contact unlock': contact.contactUnlock,
  'contact delete': contact.contactDelete,
  'contact list': () => contact.contactList(),
  queue: admin.queueStatus,
  settings: (args) => {
    if (args.positionals.length > 0) throw new UsageError(`unknown command: settings ${args.positionals[0]}`);
    return settings.settingsShow();
  },
  'settings show': () => settings.settingsShow(),
  'settings set': settings.settingsSet,
  'settings reset': settings.settingsReset,
  backup: backup.backup,
  restore: backup.restore,
  'master-key new': masterKeyNew,
  'master-key rotate': masterKeyRotate,
};

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      admin: { type: 'boolean' },
      name: { type: 'string' },
      note: { type: 'string' },
      reason: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      all: { type: 'boolean' },
      secret: { type: 'boolean' },
      yes: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length === 0) {
    console.log(USAGE);
    return positionals.length === 0 && !values.help ? 2 : 0;
  }
  if (positionals[0] === 'start') {
    const which = positionals.slice(1);
    if (which.length === 0) {
      await supervise();
      return -1; // keeps running until a signal
    }
    if (which.length === 1 && which[0] === 'all') {
      await start(SERVICES);
      return -1;
    }
    const bad = which.find((s) => !SERVICES.includes(s as Service));
    if (bad) throw new UsageError(`unknown service ${bad}; expected one of ${SERVICES.join(', ')}`);
    await start(which.length ? (which as Service[]) : SERVICES);
    return -1; // keeps running until a signal
  }
  for (const words of [2, 1]) {
    const handler = COMMANDS[positionals.slice(0, words).join(' ')];
    if (handler) {
      await handler({ positionals: positionals.slice(words), flags: values });
      return 0;
    }
  }
  throw new UsageError(`unknown command: ${positionals.join(' ')}`);
}

// Every file Sealpost (and the redis-server it starts) creates is for this user alone: 0600, folders 0700.
privateUmask();
main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (
      err instanceof UsageError ||
      (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      console.error(`sealpost: ${(err as Error).message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (err instanceof CommandError) {
      console.error(`sealpost: ${err.code}: ${err.message}`);
      process.exitCode = 65; // EX_DATAERR
    } else if (err instanceof ConfigError) {
      console.error(`sealpost: ${err.message}`);
      process.exitCode = 78; // EX_CONFIG
    } else {
      console.error(`sealpost: ${(err as Error).message ?? String(err)}`);
      process.exitCode = 1;
    }
  },
);
