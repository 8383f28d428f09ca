import { randomUUID } from 'node:crypto';
import {
  deriveKeys,
  lockPrivateKey,
  newKdf,
  unlockPrivateKey,
  type KdfParams,
} from '../../keys/access-code.ts';
import { decryptAndVerify, generateContactKeyPair, parseBinarySigningKey } from '../../keys/openpgp/index.ts';
import type { EnrolPassphraseRequest } from '../../webmail/contract/console-enrol.ts';
import { normaliseAddress } from '../../core/ids.ts';
import { SENDER, SENDER_PASSWORD, type TestGateway } from './gateway.ts';

/**
 * What the practitioner's console does, done from Node against the real API (docs/console.md): sign in
 * with her address and password, derive lockKey with the shared Argon2id, unlock her console key, read
 * her waiting access codes. The access code no longer travels in the receipt: tests that read it from
 * there read it here (through the console path), as she does.
 */
export interface ConsoleSession {
  web: string;
  cookie: string;
  key: string;
  login: string;
  lockId: string;
  privateKey: Awaited<ReturnType<typeof parseBinarySigningKey>>;
}

export interface ConsoleLine {
  id: string;
  contact: string;
  since: string;
  code: string;
}

export async function consoleSignIn(
  web: string,
  login = SENDER,
  password = SENDER_PASSWORD,
  headers: Record<string, string> = {},
): Promise<ConsoleSession> {
  const res = await fetch(`${web}/api/console/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ login, password }),
  });
  if (res.status !== 200) throw new Error(`console sign-in: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as {
    session: { key: string };
    consoleKey: { lockId: string; lockedPrivateKey: string; kdf: KdfParams };
  };
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const { lockKey } = await deriveKeys(password, body.consoleKey.kdf);
  const binary = unlockPrivateKey(
    Buffer.from(body.consoleKey.lockedPrivateKey, 'base64'),
    lockKey,
    body.consoleKey.lockId,
  );
  return {
    web,
    cookie,
    key: body.session.key,
    login,
    lockId: body.consoleKey.lockId,
    privateKey: await parseBinarySigningKey(binary),
  };
}

/** A request in her session (the cookie and the header key, as the app sends them). */
export function consoleFetch(
  s: Pick<ConsoleSession, 'web' | 'cookie' | 'key'>,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${s.web}${path}`, {
    method,
    headers: {
      cookie: s.cookie,
      'sealpost-console': s.key,
      ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
  });
}

/** Her waiting codes, decrypted with her console key. */
export async function consoleCodes(s: ConsoleSession): Promise<ConsoleLine[]> {
  const res = await consoleFetch(s, 'GET', '/api/console/codes');
  if (res.status !== 200) throw new Error(`console codes: ${res.status}`);
  const { codes } = (await res.json()) as {
    codes: { id: string; contact: string; since: string; ciphertext: string }[];
  };
  return Promise.all(
    codes.map(async (c) => {
      const { data } = await decryptAndVerify({
        armored: Buffer.from(c.ciphertext, 'base64'),
        decryptionKey: s.privateKey,
        verificationKeys: [],
        now: new Date(),
      });
      return { id: c.id, contact: c.contact, since: c.since, code: Buffer.from(data).toString('utf8') };
    }),
  );
}

/** The newest waiting access code for `contact` in the console of `login` (default: SENDER). */
export async function consoleCode(
  web: string,
  contact: string,
  login = SENDER,
  password = SENDER_PASSWORD,
): Promise<string> {
  const lines = (await consoleCodes(await consoleSignIn(web, login, password))).filter(
    (l) => l.contact === normaliseAddress(contact),
  );
  const line = lines.at(-1);
  if (!line) throw new Error(`no access code for ${contact} in the console of ${login}`);
  return line.code;
}

/** A second practitioner with her own sender key, who sends a pickup to `contact` (her code waits for her). */
export async function secondPractitioner(
  stack: { gw: TestGateway; sink: { waitFor(n: number): Promise<unknown[]> } },
  input: { login: string; password: string; contact: string; expectMails: number },
): Promise<void> {
  await stack.gw.users.add({ login: input.login, password: input.password }, new Date());
  await stack.gw.keys.generateSenderKey(input.login);
  await stack.gw
    .transport({ user: input.login, pass: input.password })
    .sendMail({ from: input.login, to: input.contact, subject: 'S', text: 'T' });
  await stack.sink.waitFor(input.expectMails);
}

/**
 * The body her browser posts to enrol a client with their own passphrase (webmail/console/src/lib/
 * enrol-passphrase.ts), made here with the server's equal functions: a contact key pair for `keyAddress`,
 * Argon2id at `iterations` passes, the private key locked under the contact id. For the attacks a browser
 * of hers would never send (a code's cost, a key for someone else, a private key).
 */
export async function ownPassphraseBody(
  address: string,
  passphrase: string,
  options: { iterations?: number; keyAddress?: string; sendPrivate?: boolean } = {},
): Promise<EnrolPassphraseRequest> {
  const contactId = randomUUID();
  const pair = await generateContactKeyPair({ address: options.keyAddress ?? address, now: new Date() });
  const kdf = { ...newKdf('passphrase'), ...(options.iterations ? { iterations: options.iterations } : {}) };
  const { authKey, lockKey } = await deriveKeys(passphrase, kdf);
  const locked = lockPrivateKey(pair.privateKey, lockKey, contactId);
  const privateArmored = options.sendPrivate ? await armoredPrivate(pair.privateKey) : undefined;
  return {
    address,
    contactId,
    publicKey: privateArmored ?? pair.publicKey,
    secret: {
      secretKind: 'passphrase',
      kdf,
      authKey: authKey.toString('base64'),
      lockedPrivateKey: locked.toString('base64'),
    },
  };
}

async function armoredPrivate(binary: Uint8Array): Promise<string> {
  const key = await parseBinarySigningKey(binary);
  return key.key.armor();
}
