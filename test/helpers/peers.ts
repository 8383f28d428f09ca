import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tmpDir } from './tmp.ts';

/**
 * The colleagues who write to the practice: GnuPG and Sequoia `sq` encrypt (and sign) what a test gives
 * them, as a mail program built on them would. Each call has its own temp home; programs run with execFile
 * and an argument array, never a shell string.
 */
export type PeerTool = 'gpg' | 'sq';

export interface PeerEncryptInput {
  data: Buffer;
  /** The armored public key to encrypt to (the Sealpost sender's key). */
  to: string;
  /** The armored secret key to sign with (the colleague's); unsigned when absent. */
  signer?: string;
  /** gpg only: `--compress-algo` (default: none). */
  compress?: 'none' | 'zlib' | 'bzip2';
  /** gpg only: `--rfc2440`, i.e. no integrity protection (SED without MDC). */
  noIntegrity?: boolean;
  /** gpg only: the signer's clock (`--faked-system-time`), e.g. a few minutes ahead of ours. */
  clock?: Date;
}

const TIMEOUT_MS = 60_000;

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { env, timeout: TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, encoding: 'buffer' },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${file} ${args[0]} failed: ${stderr.toString('utf8')}`));
        else resolve(stdout);
      },
    );
  });
}

async function withGpg<T>(fn: (gpg: (args: string[]) => Promise<Buffer>, dir: string) => Promise<T>) {
  const tmp = tmpDir('sealpost-peer-gpg-');
  const home = path.join(tmp.dir, 'h');
  mkdirSync(home, { mode: 0o700 });
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', GNUPGHOME: home, LC_ALL: 'C' };
  const gpg = (args: string[]) =>
    run('gpg', ['--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], env);
  try {
    return await fn(gpg, tmp.dir);
  } finally {
    await run('gpgconf', ['--kill', 'all'], env).catch(() => undefined);
    tmp.cleanup();
  }
}

async function importKey(gpg: (args: string[]) => Promise<Buffer>, dir: string, armored: string) {
  const file = path.join(dir, `key-${Math.random().toString(16).slice(2)}.asc`);
  writeFileSync(file, armored);
  await gpg(['--import', file]);
  const listed = (await gpg(['--with-colons', '--show-keys', file])).toString('utf8');
  const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(listed)?.[1];
  if (!fpr) throw new Error('gpg printed no fingerprint');
  return fpr;
}

/** `gpg --encrypt [--sign]`, armored. */
export function gpgEncrypt(input: PeerEncryptInput): Promise<string> {
  return withGpg(async (gpg, dir) => {
    const to = await importKey(gpg, dir, input.to);
    const signer = input.signer ? await importKey(gpg, dir, input.signer) : undefined;
    const inFile = path.join(dir, 'in');
    writeFileSync(inFile, input.data);
    const compress = input.compress ?? 'none';
    const args = [
      '--trust-model',
      'always',
      '--armor',
      '--compress-algo',
      compress,
      ...(compress === 'none' ? [] : ['-z', '9']),
      ...(input.noIntegrity ? ['--rfc2440'] : []),
      ...(input.clock ? ['--faked-system-time', `${Math.floor(input.clock.getTime() / 1000)}!`] : []),
      '--recipient',
      to,
      ...(signer ? ['--local-user', signer, '--sign'] : []),
      '--encrypt',
      '--output',
      '-',
      inFile,
    ];
    return (await gpg(args)).toString('latin1');
  });
}

/** `gpg --detach-sign`, armored: the second part of an RFC 3156 multipart/signed. */
export function gpgDetachSign(data: Buffer, signer: string): Promise<string> {
  return withGpg(async (gpg, dir) => {
    const fpr = await importKey(gpg, dir, signer);
    const inFile = path.join(dir, 'in');
    writeFileSync(inFile, data);
    return (await gpg(['--armor', '--local-user', fpr, '--detach-sign', '--output', '-', inFile])).toString(
      'latin1',
    );
  });
}

async function withSq<T>(fn: (sq: (args: string[]) => Promise<Buffer>, dir: string) => Promise<T>) {
  const tmp = tmpDir('sealpost-peer-sq-');
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: tmp.dir,
    SEQUOIA_HOME: tmp.dir,
    LC_ALL: 'C',
  };
  try {
    return await fn((args) => run('sq', args, env), tmp.dir);
  } finally {
    tmp.cleanup();
  }
}

/** `sq encrypt --recipient-cert … [--signer-key …]`, armored (sq's default padding compression). */
export function sqEncrypt(input: PeerEncryptInput): Promise<string> {
  return withSq(async (sq, dir) => {
    const cert = path.join(dir, 'to.asc');
    const inFile = path.join(dir, 'in');
    writeFileSync(cert, input.to);
    writeFileSync(inFile, input.data);
    const signer = path.join(dir, 'signer.asc');
    if (input.signer) writeFileSync(signer, input.signer);
    const args = [
      'encrypt',
      '--recipient-cert',
      cert,
      ...(input.signer ? ['--signer-key', signer] : []),
      '--output',
      '-',
      inFile,
    ];
    return (await sq(args)).toString('latin1');
  });
}

/** `sq sign --detached`, armored. */
export function sqDetachSign(data: Buffer, signer: string): Promise<string> {
  return withSq(async (sq, dir) => {
    const key = path.join(dir, 'signer.asc');
    const inFile = path.join(dir, 'in');
    writeFileSync(key, signer);
    writeFileSync(inFile, data);
    return (await sq(['sign', '--detached', '--signer-key', key, '--output', '-', inFile])).toString(
      'latin1',
    );
  });
}

export const peer = {
  gpg: { encrypt: gpgEncrypt, detachSign: gpgDetachSign },
  sq: { encrypt: sqEncrypt, detachSign: sqDetachSign },
} as const;

/** An RFC 3156 multipart/encrypted mail around `armored`, with the obscured subject outside. */
export function pgpMimeMail(input: {
  armored: string;
  from: string;
  to: string;
  subject?: string;
  extraHeaders?: string[];
}): Buffer {
  const b = `enc-${Math.random().toString(16).slice(2)}`;
  return Buffer.from(
    [
      `From: ${input.from}`,
      `To: ${input.to}`,
      `Subject: ${input.subject ?? '[...]'}`,
      `Date: Mon, 23 Nov 2026 10:00:00 +0100`,
      `Message-ID: <${b}@clinic.example>`,
      ...(input.extraHeaders ?? []),
      'MIME-Version: 1.0',
      `Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="${b}"`,
      '',
      'This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)',
      `--${b}`,
      'Content-Type: application/pgp-encrypted',
      'Content-Description: PGP/MIME version identification',
      '',
      'Version: 1',
      '',
      `--${b}`,
      'Content-Type: application/octet-stream; name="encrypted.asc"',
      'Content-Disposition: inline; filename="encrypted.asc"',
      '',
      input.armored.replace(/\r?\n/g, '\r\n').trimEnd(),
      '',
      `--${b}--`,
      '',
    ].join('\r\n'),
    'latin1',
  );
}
