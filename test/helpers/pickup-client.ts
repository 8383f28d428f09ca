import http from 'node:http';
import { simpleParser } from 'mailparser';
import { deriveKeys, normaliseAccessCode, unlockPrivateKey, type KdfParams } from '../../keys/access-code.ts';
import {
  decryptAndVerify,
  encryptAndSign,
  parseBinarySigningKey,
  parseEncryptionKey,
  type SigningKey,
} from '../../keys/openpgp/index.ts';

/**
 * What the pickup app does, done from Node against the real API: for API and security tests (the browser
 * tests drive the real app in Chromium). Uses the shared derivation of docs/pickup.md.
 */
export async function mailText(raw: Buffer): Promise<{ subject: string; text: string; to: string }> {
  const parsed = await simpleParser(raw);
  const to = Array.isArray(parsed.to) ? parsed.to[0]?.text : parsed.to?.text;
  return { subject: parsed.subject ?? '', text: parsed.text ?? '', to: to ?? '' };
}

export async function linkId(raw: Buffer): Promise<string> {
  const { text } = await mailText(raw);
  const m = /\/p\/([A-Za-z0-9_-]{22})/.exec(text);
  if (!m?.[1]) throw new Error('no pickup link in the notification');
  return m[1];
}

export interface Unlocked {
  cookie: string;
  /** The `Sealpost-Session` header the app sends with the cookie (docs/pickup.md). */
  sessionKey: string;
  contact: { id: string; address: string; fingerprint: string };
  privateKey: SigningKey;
  status: number;
}

export async function metadata(
  web: string,
  id: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${web}/api/pickup/${id}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Derive from `secret` as the app does and POST unlock; returns the status and body on failure. */
export async function tryUnlock(
  web: string,
  id: string,
  secret: string,
): Promise<{ status: number; body: Record<string, unknown>; unlocked?: Unlocked }> {
  const meta = await metadata(web, id);
  if (meta.status !== 200) return meta;
  const contact = meta.body.contact as { kdf: KdfParams; secretKind: string };
  const normalised = contact.secretKind === 'code' ? normaliseAccessCode(secret) : secret.trim();
  if (!normalised) throw new Error('not a code');
  const { authKey, lockKey } = await deriveKeys(normalised, contact.kdf);
  const res = await fetch(`${web}/api/pickup/${id}/unlock`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ authKey: authKey.toString('base64') }),
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) return { status: res.status, body };
  const c = body.contact as { id: string; address: string; fingerprint: string; lockedPrivateKey: string };
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const sessionKey = (body.session as { key: string }).key;
  const binary = unlockPrivateKey(Buffer.from(c.lockedPrivateKey, 'base64'), lockKey, c.id);
  return {
    status: 200,
    body,
    unlocked: {
      cookie,
      sessionKey,
      contact: c,
      privateKey: await parseBinarySigningKey(binary),
      status: 200,
    },
  };
}

/** The authKey the app would send for `secret` (the Argon2id derivation, done once for many requests). */
export async function authKeyFor(web: string, id: string, secret: string): Promise<Buffer> {
  const meta = await metadata(web, id);
  const contact = meta.body.contact as { kdf: KdfParams; secretKind: string };
  const normalised = contact.secretKind === 'code' ? normaliseAccessCode(secret) : secret.trim();
  if (!normalised) throw new Error('not a code');
  return (await deriveKeys(normalised, contact.kdf)).authKey;
}

/**
 * POST unlock with a given authKey (a random one is a wrong code), from `localAddress` (127.0.0.2, …) and
 * with extra headers (X-Forwarded-For) when given: as another client, or a client behind a proxy.
 */
export function postUnlock(
  web: string,
  id: string,
  authKey: Buffer,
  o: { localAddress?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: http.IncomingHttpHeaders }> {
  const url = new URL(`${web}/api/pickup/${id}/unlock`);
  const payload = JSON.stringify({ authKey: authKey.toString('base64') });
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent: false,
        ...(o.localAddress ? { localAddress: o.localAddress } : {}),
        headers: { 'content-type': 'application/json', ...o.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export async function unlock(web: string, id: string, secret: string): Promise<Unlocked> {
  const r = await tryUnlock(web, id, secret);
  if (!r.unlocked) throw new Error(`unlock failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.unlocked;
}

/** A request under /api/pickup/session with the session's cookie and header, as the app sends them. */
export async function api(
  web: string,
  session: Pick<Unlocked, 'cookie' | 'sessionKey'>,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: () => Promise<Record<string, unknown>>; bytes: () => Promise<Buffer> }> {
  const res = await fetch(`${web}/api/pickup/session${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      cookie: session.cookie,
      'sealpost-session': session.sessionKey,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: res.status,
    json: async () => (await res.json()) as Record<string, unknown>,
    bytes: async () => Buffer.from(await res.arrayBuffer()),
  };
}

/** Fetch a message's ciphertext and open it with the unlocked contact key; verify with the senders' keys. */
export async function readMessage(web: string, u: Unlocked, id: string) {
  const ct = await (await api(web, u, `/messages/${id}`)).bytes();
  const senders = (await (await api(web, u, '/senders')).json()).senders as { publicKey: string }[];
  const keys = await Promise.all(senders.map((s) => parseEncryptionKey(s.publicKey)));
  const out = await decryptAndVerify({
    armored: ct,
    decryptionKey: u.privateKey,
    verificationKeys: keys,
    now: new Date(),
  });
  return { ...out, parsed: await simpleParser(Buffer.from(out.data)) };
}

/** A reply as the app builds it: MIME, signed by the contact, encrypted to the sender and the contact. */
export async function buildReply(input: {
  u: Unlocked;
  senderPublicKey: string;
  inReplyTo: string;
  to: string;
  text: string;
  attachment?: { name: string; bytes: Buffer };
  /** Header lines instead of From, To, Subject and the thread fields (a hostile contact's own client). */
  head?: string[];
}): Promise<string> {
  const boundary = 'reply-boundary-1';
  const lines = [
    ...(input.head ?? [
      `From: <${input.u.contact.address}>`,
      `To: <${input.to}>`,
      'Subject: Re: Ihre Nachricht',
      `In-Reply-To: ${input.inReplyTo}`,
      `References: ${input.inReplyTo}`,
    ]),
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from(input.text, 'utf8').toString('base64'),
  ];
  if (input.attachment) {
    lines.push(
      `--${boundary}`,
      `Content-Type: application/octet-stream; name="${input.attachment.name}"`,
      `Content-Disposition: attachment; filename="${input.attachment.name}"`,
      'Content-Transfer-Encoding: base64',
      '',
      input.attachment.bytes
        .toString('base64')
        .replace(/.{1,76}/g, '$&\r\n')
        .trimEnd(),
    );
  }
  lines.push(`--${boundary}--`, '');
  const sender = await parseEncryptionKey(input.senderPublicKey);
  const own = { fingerprint: input.u.privateKey.fingerprint, key: input.u.privateKey.publicKey };
  return encryptAndSign({
    data: Buffer.from(lines.join('\r\n'), 'utf8'),
    to: [sender, own],
    signer: input.u.privateKey,
    now: new Date(),
  });
}
