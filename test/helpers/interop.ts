import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tmpDir } from './tmp.ts';

/**
 * Run the real other OpenPGP implementations (GnuPG, Sequoia `sq`) on what Sealpost produces. Each call
 * gets its own temp home, so no user keyring is read or written. Programs are started with execFile and
 * an argument array (never a shell string) and a timeout.
 */
const TIMEOUT_MS = 30_000;
/** Mail and keys in tests are small; a bound keeps a runaway tool from filling memory. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

export interface DecryptVerifyInput {
  /** A whole PGP/MIME mail (multipart/encrypted) or just the armored `PGP MESSAGE` block. */
  message: Buffer;
  recipientSecretKeyArmored: string;
  senderPublicKeyArmored: string;
}

export interface DecryptVerifyResult {
  plaintext: Buffer;
  goodSignature: boolean;
  /** Primary-key fingerprint (upper-case hex) of the sender cert that made the good signature. */
  signerFingerprint: string | null;
  /** What the tool said, for assertion messages. */
  diagnostics: string;
}

interface RunResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

function run(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  input?: Buffer,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { env, timeout: TIMEOUT_MS, maxBuffer: MAX_OUTPUT_BYTES, encoding: 'buffer' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        if (err && err.killed) {
          reject(new Error(`${file} timed out or was killed: ${stderr.toString('utf8')}`));
          return;
        }
        if (err && typeof err.code !== 'number') {
          reject(err);
          return;
        }
        resolve({ code, stdout, stderr: stderr.toString('utf8') });
      },
    );
    // A tool that exits without reading its input (e.g. `sq inspect FILE`) closes the pipe: that EPIPE is
    // not a result; the exit code and stderr are.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? Buffer.alloc(0));
  });
}

const ARMOR_BEGIN = '-----BEGIN PGP MESSAGE-----';
const ARMOR_END = '-----END PGP MESSAGE-----';

/** The unfolded header section of `part` (up to the first empty line), as lower-cased name → value. */
function headerMap(part: string): Map<string, string> {
  const end = part.search(/\r?\n\r?\n/);
  const head = (end < 0 ? part : part.slice(0, end)).replace(/\r?\n(?=[ \t])/g, '');
  const map = new Map<string, string>();
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) map.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return map;
}

function bodyOf(part: string): string {
  const m = /\r?\n\r?\n/.exec(part);
  return m ? part.slice(m.index + m[0].length) : '';
}

function param(value: string, name: string): string | undefined {
  const m = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(value);
  return m ? (m[1] ?? m[2]) : undefined;
}

/** The parts between `--boundary` delimiter lines, up to the `--boundary--` close (RFC 2046 §5.1.1). */
function multipartParts(body: string, boundary: string): string[] {
  const lines = body.split('\r\n');
  const parts: string[] = [];
  let current: string[] | undefined;
  for (const line of lines) {
    const trimmed = line.replace(/[ \t]+$/, '');
    if (trimmed === `--${boundary}--`) {
      if (current) parts.push(current.join('\r\n'));
      return parts;
    }
    if (trimmed === `--${boundary}`) {
      if (current) parts.push(current.join('\r\n'));
      current = [];
    } else {
      current?.push(line);
    }
  }
  throw new Error('multipart body has no closing delimiter');
}

/**
 * The armored OpenPGP message of an RFC 3156 multipart/encrypted mail, after checking the outer structure:
 * Content-Type multipart/encrypted with protocol application/pgp-encrypted; exactly two parts, the first
 * application/pgp-encrypted saying `Version: 1`, the second application/octet-stream with the armor.
 */
export function extractArmoredPayload(mail: Buffer): string {
  const text = mail.toString('latin1');
  const outer = headerMap(text);
  const contentType = outer.get('content-type') ?? '';
  if (!/^multipart\/encrypted\s*;/i.test(contentType))
    throw new Error(`not multipart/encrypted: ${contentType}`);
  if (param(contentType, 'protocol')?.toLowerCase() !== 'application/pgp-encrypted')
    throw new Error(`wrong protocol parameter: ${contentType}`);
  const boundary = param(contentType, 'boundary');
  if (!boundary) throw new Error('multipart/encrypted without boundary');
  const parts = multipartParts(bodyOf(text), boundary);
  if (parts.length !== 2) throw new Error(`multipart/encrypted must have 2 parts, has ${parts.length}`);
  const [control, data] = parts as [string, string];
  const controlType = headerMap(control).get('content-type') ?? '';
  if (!/^application\/pgp-encrypted\s*(;|$)/i.test(controlType))
    throw new Error(`first part is not application/pgp-encrypted: ${controlType}`);
  if (!/^Version:\s*1\s*$/m.test(bodyOf(control))) throw new Error('first part does not say "Version: 1"');
  const dataType = headerMap(data).get('content-type') ?? '';
  if (!/^application\/octet-stream\s*(;|$)/i.test(dataType))
    throw new Error(`second part is not application/octet-stream: ${dataType}`);
  const payload = bodyOf(data);
  const start = payload.indexOf(ARMOR_BEGIN);
  const end = payload.indexOf(ARMOR_END);
  if (start < 0 || end < start) throw new Error('second part holds no armored PGP MESSAGE');
  return payload.slice(start, end + ARMOR_END.length) + '\r\n';
}

function armoredMessage(message: Buffer): Buffer {
  const text = message.toString('latin1');
  return Buffer.from(
    text.trimStart().startsWith(ARMOR_BEGIN) ? text : extractArmoredPayload(message),
    'latin1',
  );
}

function statusLines(status: string, keyword: string): string[][] {
  return status
    .split('\n')
    .filter((l) => l.startsWith(`[GNUPG:] ${keyword} `) || l.trim() === `[GNUPG:] ${keyword}`)
    .map((l) => l.trim().split(' ').slice(2));
}

/** Decrypt and verify with GnuPG (`gpg --decrypt --status-fd`), in a throw-away GNUPGHOME. */
export async function gpgDecryptVerify(input: DecryptVerifyInput): Promise<DecryptVerifyResult> {
  const tmp = tmpDir('sealpost-gpg-');
  const home = path.join(tmp.dir, 'h');
  mkdirSync(home, { mode: 0o700 });
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', GNUPGHOME: home, LC_ALL: 'C' };
  const gpg = (args: string[], stdin?: Buffer) =>
    run(
      'gpg',
      ['--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', '', ...args],
      env,
      stdin,
    );
  try {
    const imported = await gpg(['--status-fd', '1', '--import'], Buffer.from(input.senderPublicKeyArmored));
    const senderFprs = statusLines(imported.stdout.toString('utf8'), 'IMPORT_OK').map((f) => f[1]!);
    if (imported.code !== 0 || senderFprs.length === 0)
      throw new Error(`gpg could not import the sender key: ${imported.stderr}`);
    // Ultimate owner trust, so that a good signature by the sender counts as valid (GOODSIG + VALIDSIG).
    const trust = await gpg(
      ['--import-ownertrust'],
      Buffer.from(senderFprs.map((f) => `${f}:6:\n`).join('')),
    );
    if (trust.code !== 0) throw new Error(`gpg --import-ownertrust failed: ${trust.stderr}`);
    const secret = await gpg(['--import'], Buffer.from(input.recipientSecretKeyArmored));
    if (secret.code !== 0) throw new Error(`gpg could not import the recipient key: ${secret.stderr}`);

    const messageFile = path.join(tmp.dir, 'message.asc');
    const outFile = path.join(tmp.dir, 'plain.out');
    writeFileSync(messageFile, armoredMessage(input.message));
    const result = await gpg(['--status-fd', '1', '--output', outFile, '--decrypt', messageFile]);
    const status = result.stdout.toString('utf8');
    const diagnostics = `${status}\n${result.stderr}`;
    if (
      statusLines(status, 'DECRYPTION_OKAY').length === 0 ||
      statusLines(status, 'DECRYPTION_FAILED').length > 0 ||
      statusLines(status, 'END_DECRYPTION').length === 0
    ) {
      throw new Error(`gpg did not decrypt the message:\n${diagnostics}`);
    }
    const valid = statusLines(status, 'VALIDSIG');
    const goodSignature =
      result.code === 0 &&
      statusLines(status, 'GOODSIG').length > 0 &&
      valid.length > 0 &&
      statusLines(status, 'BADSIG').length === 0 &&
      statusLines(status, 'ERRSIG').length === 0;
    // VALIDSIG <sig-fpr> <date> <ts> <expire> <ver> <res> <pk-algo> <hash> <class> <primary-fpr>
    const signer = valid[0]?.[9] ?? valid[0]?.[0] ?? null;
    return { plaintext: readFileSync(outFile), goodSignature, signerFingerprint: signer, diagnostics };
  } finally {
    await run('gpgconf', ['--kill', 'all'], env).catch(() => undefined);
    tmp.cleanup();
  }
}

/** Primary fingerprint and the fingerprints of all (sub)keys of a cert, as `sq inspect` prints them. */
async function sqFingerprints(
  certFile: string,
  env: NodeJS.ProcessEnv,
): Promise<{ primary: string; all: string[] }> {
  const inspected = await run('sq', ['inspect', certFile], env);
  if (inspected.code !== 0) throw new Error(`sq inspect failed: ${inspected.stderr}`);
  const text = inspected.stdout.toString('utf8');
  const primary = /Fingerprint:\s*([0-9A-F]{40})/i.exec(text)?.[1]?.toUpperCase();
  if (!primary) throw new Error(`sq inspect printed no fingerprint:\n${text}`);
  const subkeys = [...text.matchAll(/Subkey:\s*([0-9A-F]{40})/gi)].map((m) => m[1]!.toUpperCase());
  return { primary, all: [primary, ...subkeys] };
}

/**
 * Decrypt and verify with Sequoia: `sq decrypt --recipient-key K --signer-cert C`. With a signer cert sq
 * requires one good signature (threshold 1) and exits non-zero, withholding the plaintext, otherwise: a
 * non-zero exit after successful decryption is reported as goodSignature false.
 */
export async function sqDecryptVerify(input: DecryptVerifyInput): Promise<DecryptVerifyResult> {
  const tmp = tmpDir('sealpost-sq-');
  // sq may consult a home (cert store, config); point every home at the temp folder.
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: tmp.dir,
    SEQUOIA_HOME: tmp.dir,
    LC_ALL: 'C',
  };
  try {
    const keyFile = path.join(tmp.dir, 'recipient.key.asc');
    const certFile = path.join(tmp.dir, 'sender.cert.asc');
    const messageFile = path.join(tmp.dir, 'message.asc');
    const outFile = path.join(tmp.dir, 'plain.out');
    writeFileSync(keyFile, input.recipientSecretKeyArmored);
    writeFileSync(certFile, input.senderPublicKeyArmored);
    writeFileSync(messageFile, armoredMessage(input.message));
    const cert = await sqFingerprints(certFile, env);
    const result = await run(
      'sq',
      ['decrypt', '--recipient-key', keyFile, '--signer-cert', certFile, '--output', outFile, messageFile],
      env,
    );
    const diagnostics = result.stderr;
    if (result.code !== 0) {
      if (/verification failed/i.test(diagnostics) && /Encrypted using/i.test(diagnostics)) {
        return { plaintext: Buffer.alloc(0), goodSignature: false, signerFingerprint: null, diagnostics };
      }
      throw new Error(`sq did not decrypt the message:\n${diagnostics}`);
    }
    const goodIds = [...diagnostics.matchAll(/Good signature from ([0-9A-F]{16,40})/gi)].map((m) =>
      m[1]!.toUpperCase(),
    );
    const bySender = goodIds.some((id) => cert.all.some((fpr) => fpr.endsWith(id)));
    return {
      plaintext: readFileSync(outFile),
      goodSignature: bySender,
      signerFingerprint: bySender ? cert.primary : null,
      diagnostics,
    };
  } finally {
    tmp.cleanup();
  }
}
