// Runs INSIDE a private network, mount and PID namespace (started by test/helpers/gpg-wkd.ts through
// `unshare`); nothing here touches the machine outside it. It
//   1. brings up `lo` (the namespace's only interface: no route leaves it),
//   2. bind-mounts the test's hosts file, resolv.conf and CA bundle over the system ones, and an empty
//      tmpfs over /run/user (private mounts: the kernel drops them with the namespace),
//   3. listens on 127.0.0.1:443 and pipes every connection to the test's HTTPS server on a Unix socket
//      (a path on the file system, reachable from any network namespace),
//   4. answers every DNS query on 127.0.0.1:53 with NXDOMAIN (dirmngr asks for `_openpgpkey._tcp` SRV
//      records before the direct method; "no such name" is the answer of a domain without them),
//   5. runs the gpg commands it was given with a temporary GNUPGHOME, and prints their results as JSON.
// When it exits, the kernel ends every process of the PID namespace (dirmngr included).
import { Buffer } from 'node:buffer';
import { execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';

const job = JSON.parse(process.argv[2]);

execFileSync('ip', ['link', 'set', 'lo', 'up']);
for (const [source, target] of job.mounts) execFileSync('mount', ['--bind', source, target]);
// gpg puts its daemons' sockets under /run/user/<uid> when that exists: keep them inside the namespace.
for (const dir of job.tmpfs) execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', dir]);

function run(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env: { ...process.env, GNUPGHOME: job.gnupgHome, LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (err) => resolve({ command, args, code: -1, stdout, stderr: String(err) }));
    child.on('close', (code) => resolve({ command, args, code, stdout, stderr }));
  });
}

/** The query's header and question, flagged as a response (QR, RD copied, RA) with RCODE 3, no records. */
function nxdomain(query) {
  if (query.length < 12) return null;
  const reply = Buffer.from(query);
  reply[2] = 0x80 | (query[2] & 0x79); // QR, opcode and RD as asked, AA and TC clear
  reply[3] = 0x80 | 3; // RA, NXDOMAIN
  reply.writeUInt16BE(0, 6); // ANCOUNT
  reply.writeUInt16BE(0, 8); // NSCOUNT
  reply.writeUInt16BE(0, 10); // ARCOUNT (an EDNS OPT record of the query is dropped with it)
  return reply.subarray(0, 12 + questionLength(query));
}

function questionLength(query) {
  let at = 12;
  while (at < query.length && query[at] !== 0) at += query[at] + 1;
  return Math.min(at + 1 + 4, query.length) - 12; // the root label, QTYPE, QCLASS
}

const dns = dgram.createSocket('udp4');
dns.on('message', (query, peer) => {
  const reply = nxdomain(query);
  if (reply) dns.send(reply, peer.port, peer.address);
});
await new Promise((resolve) => dns.bind(53, '127.0.0.1', resolve));

const front = net.createServer((client) => {
  const upstream = net.connect(job.socket);
  client.pipe(upstream).pipe(client);
  upstream.on('error', () => client.destroy());
  client.on('error', () => upstream.destroy());
});
front.listen(443, '127.0.0.1', async () => {
  const results = [];
  for (const [command, ...args] of job.commands) results.push(await run(command, args));
  process.stdout.write(JSON.stringify(results));
  process.exit(0);
});
