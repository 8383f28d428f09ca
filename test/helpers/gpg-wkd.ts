import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { RequestListener } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from 'selfsigned';
import { tmpDir } from './tmp.ts';

/**
 * GnuPG's own WKD client (dirmngr) reading Sealpost's WKD endpoint, with no change to the machine.
 *
 * dirmngr fetches `https://openpgpkey.<domain>/…` (advanced) or `https://<domain>/…` (direct) on port 443,
 * resolves names through the system resolver and trusts the system CA bundle. So gpg runs in private
 * namespaces (`unshare --net --mount --pid`, root only): a network of its own with just `lo`, where a small
 * forwarder listens on 127.0.0.1:443 and a DNS stub answers NXDOMAIN; bind mounts (private to the
 * namespace) put our hosts file, nsswitch.conf, resolv.conf and a CA bundle holding only the test CA in place. The forwarder pipes
 * the bytes to an HTTPS server in the test process, on a Unix socket (a file: reachable from any network
 * namespace), whose certificate the test CA issued for the domain and its `openpgpkey.` name. When the
 * namespace's first process exits, the kernel ends dirmngr and every other process in it.
 * test/helpers/gpg-wkd-netns.mjs is what runs inside.
 *
 *   const front = await startWkdFront(app, ['praxis.example']);
 *   const found = await gpgLocateKeys(front, { address: 'anna@praxis.example', method: 'direct' });
 */
const NETNS_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'gpg-wkd-netns.mjs');
/** A bound for a hung tool, never a wait: dirmngr answers within its own timeouts, or fails. */
const TIMEOUT_MS = 60_000;
const SYSTEM_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** Why gpg cannot be run against a WKD here (the test skips with this message), or undefined. */
export function gpgWkdUnavailable(): string | undefined {
  if (process.getuid?.() !== 0)
    return 'reading our WKD with gpg needs root (private network and mount namespaces through unshare)';
  for (const tool of ['unshare', 'ip', 'mount', 'gpg', 'gpgconf']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed`;
    }
  }
  if (!existsSync(SYSTEM_CA_BUNDLE)) return `${SYSTEM_CA_BUNDLE} is missing (ca-certificates)`;
  return undefined;
}

export interface WkdRequest {
  method: string;
  host: string;
  url: string;
}

export interface WkdFront {
  /** The test HTTPS server's Unix socket. */
  readonly socketPath: string;
  readonly dir: string;
  readonly domains: readonly string[];
  /** Every request the front received (gpg's, through the namespace), in order. */
  readonly requests: WkdRequest[];
  close(): Promise<void>;
}

/** An HTTPS server for `handler` (e.g. the webmail app) with a test-CA certificate for the domains. */
export async function startWkdFront(handler: RequestListener, domains: readonly string[]): Promise<WkdFront> {
  const tmp = tmpDir('sp-wkd-');
  const names = domains.flatMap((d) => [d, `openpgpkey.${d}`]);
  const ca = await generate([{ name: 'commonName', value: 'Sealpost Test CA' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const leaf = await generate([{ name: 'commonName', value: names[0]! }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: names.map((value) => ({ type: 2 as const, value })) },
    ],
  });
  writeFileSync(path.join(tmp.dir, 'ca.pem'), ca.cert);
  const requests: WkdRequest[] = [];
  const server = https.createServer({ key: leaf.private, cert: leaf.cert }, (req, res) => {
    requests.push({ method: req.method ?? '', host: req.headers.host ?? '', url: req.url ?? '' });
    handler(req, res);
  });
  const socketPath = path.join(tmp.dir, 'https.sock');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    socketPath,
    dir: tmp.dir,
    domains,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      tmp.cleanup();
    },
  };
}

export interface GpgCommandResult {
  command: string;
  args: string[];
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run commands (argument arrays, no shell) in the namespaces, with a fresh GNUPGHOME. `method: 'direct'`
 * leaves `openpgpkey.<domain>` unresolvable, so that dirmngr falls back from the advanced to the direct
 * method, as it does for a domain without that name.
 */
export async function runInWkdNamespace(
  front: WkdFront,
  options: { method: 'advanced' | 'direct'; commands: string[][] },
): Promise<GpgCommandResult[]> {
  const run = tmpDir('sp-gpg-');
  try {
    const gnupgHome = path.join(run.dir, 'home');
    mkdirSync(gnupgHome, { mode: 0o700 });
    // standard-resolver: getaddrinfo, which reads /etc/hosts (the namespace's own, bound below).
    writeFileSync(path.join(gnupgHome, 'dirmngr.conf'), 'standard-resolver\n');
    const names = front.domains.flatMap((d) =>
      options.method === 'advanced' ? [d, `openpgpkey.${d}`] : [d],
    );
    writeFileSync(path.join(run.dir, 'hosts'), `127.0.0.1 localhost\n127.0.0.1 ${names.join(' ')}\n`);
    // Names come from the hosts file alone: a name missing there does not exist, so dirmngr falls back
    // from the advanced to the direct method (after a resolver error it would give up instead). DNS queries
    // (the SRV records dirmngr asks for) go to the namespace's stub, which answers NXDOMAIN.
    writeFileSync(path.join(run.dir, 'nsswitch.conf'), 'hosts: files\n');
    writeFileSync(path.join(run.dir, 'resolv.conf'), 'nameserver 127.0.0.1\n');
    const mounts = [
      [path.join(run.dir, 'hosts'), '/etc/hosts'],
      [path.join(run.dir, 'nsswitch.conf'), '/etc/nsswitch.conf'],
      [path.join(run.dir, 'resolv.conf'), '/etc/resolv.conf'],
      [path.join(front.dir, 'ca.pem'), SYSTEM_CA_BUNDLE],
    ];
    const tmpfs = existsSync('/run/user') ? ['/run/user'] : [];
    const job = { socket: front.socketPath, gnupgHome, mounts, tmpfs, commands: options.commands };
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        'unshare',
        [
          '--net',
          '--mount',
          '--pid',
          '--fork',
          '--kill-child',
          process.execPath,
          NETNS_SCRIPT,
          JSON.stringify(job),
        ],
        { timeout: TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
        (err, out, errOut) => (err ? reject(new Error(`unshare: ${err.message}\n${errOut}`)) : resolve(out)),
      );
    });
    return JSON.parse(stdout) as GpgCommandResult[];
  } finally {
    run.cleanup();
  }
}

export interface LocatedKey {
  fingerprint: string;
  userIds: string[];
}

/**
 * `gpg --auto-key-locate clear,nodefault,wkd --locate-external-keys ADDRESS` (network only, never the
 * local keyring), then the keyring as gpg sees it: the keys it imported with their User IDs.
 */
export async function gpgLocateKeys(
  front: WkdFront,
  options: { address: string; method: 'advanced' | 'direct' },
): Promise<{ keys: LocatedKey[]; locate: GpgCommandResult }> {
  const gpg = ['gpg', '--batch', '--no-tty'];
  const [locate, list] = await runInWkdNamespace(front, {
    method: options.method,
    commands: [
      [...gpg, '--auto-key-locate', 'clear,nodefault,wkd', '--locate-external-keys', options.address],
      [...gpg, '--with-colons', '--fingerprint', '--list-keys'],
    ],
  });
  return { keys: parseColons(list!.stdout), locate: locate! };
}

/**
 * `gpg-wks-client -v --check ADDRESS`: fetches the key through dirmngr like gpg, but imports nothing and
 * filters nothing: it reports the fingerprint and every User ID of the key as served.
 */
export async function gpgWksCheck(
  front: WkdFront,
  options: { address: string; method: 'advanced' | 'direct' },
): Promise<{ result: GpgCommandResult; fingerprint: string | undefined; userIds: string[] }> {
  const libexec = execFileSync('gpgconf', ['--list-dirs', 'libexecdir'], { encoding: 'utf8' }).trim();
  const [result] = await runInWkdNamespace(front, {
    method: options.method,
    commands: [[path.join(libexec, 'gpg-wks-client'), '-v', '--check', options.address]],
  });
  // Lines like "gpg-wks-client: fingerprint: 0123…" and "gpg-wks-client:     user-id: Anna <anna@…>" (LC_ALL=C).
  const field = (name: string) =>
    [...result!.stderr.matchAll(new RegExp(`^gpg-wks-client: +${name}: (.*)$`, 'gm'))].map((m) => m[1]!);
  return { result: result!, fingerprint: field('fingerprint')[0], userIds: field('user-id') };
}

/** Keys from `--with-colons` output: each `pub` with the fingerprint of its `fpr` line and its `uid`s. */
function parseColons(text: string): LocatedKey[] {
  const keys: LocatedKey[] = [];
  let current: LocatedKey | undefined;
  let expectPrimaryFpr = false;
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === 'pub') {
      current = { fingerprint: '', userIds: [] };
      keys.push(current);
      expectPrimaryFpr = true;
    } else if (fields[0] === 'fpr' && current && expectPrimaryFpr) {
      current.fingerprint = fields[9] ?? '';
      expectPrimaryFpr = false;
    } else if (fields[0] === 'uid' && current) {
      current.userIds.push(unescapeColons(fields[9] ?? ''));
    } else if (fields[0] === 'sub') {
      expectPrimaryFpr = false;
    }
  }
  return keys;
}

/** `--with-colons` escapes `:` and control characters as `\xNN`. */
function unescapeColons(value: string): string {
  return value.replace(/\\x([0-9a-fA-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
