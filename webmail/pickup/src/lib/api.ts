import * as z from 'zod/mini';
import { displayText } from './display.ts';

/**
 * The pickup API of docs/pickup.md, as the browser sees it. Every answer is checked against its schema
 * before the app uses it; an error answer is `{ code, message }` plus extras (attemptsLeft, problem).
 * Names and addresses the app shows are neutralised here (display.ts), at the edge.
 */
const text = z.pipe(z.string(), z.transform(displayText));
const kdf = z.object({
  alg: z.literal('argon2id'),
  salt: z.string(),
  memoryKiB: z.number(),
  iterations: z.number(),
  parallelism: z.number(),
});
export const metaSchema = z.object({
  id: z.string(),
  state: z.literal('available'),
  sender: z.object({ displayName: text }),
  createdAt: z.string(),
  expiresAt: z.string(),
  contact: z.object({ secretKind: z.enum(['code', 'passphrase']), locked: z.boolean(), kdf }),
  readable: z.boolean(),
});
/** The operator block (GET /api/pickup/practice): who runs this page, shown on every screen. */
const httpsUrl = z.string().check(z.regex(/^https?:\/\/[^\s]+$/));
export const practiceSchema = z.object({
  name: text,
  address: z.optional(text),
  phone: z.optional(text),
  imprintUrl: z.optional(httpsUrl),
  privacyUrl: z.optional(httpsUrl),
  securityWord: z.optional(text),
});
export const unlockSchema = z.object({
  contact: z.object({
    id: z.string(),
    address: z.string(),
    fingerprint: z.string(),
    lockedPrivateKey: z.string(),
  }),
  session: z.object({ expiresAt: z.string(), key: z.string() }),
});
export const sessionSchema = z.object({
  contact: z.object({
    id: z.string(),
    address: z.string(),
    fingerprint: z.string(),
    secretKind: z.enum(['code', 'passphrase']),
  }),
  expiresAt: z.string(),
});
const sender = z.object({ address: text, displayName: text, fingerprint: z.string() });
export const messagesSchema = z.object({
  messages: z.array(
    z.object({
      id: z.string(),
      sender,
      createdAt: z.string(),
      expiresAt: z.string(),
      size: z.number(),
      readable: z.boolean(),
    }),
  ),
});
export const sendersSchema = z.object({
  senders: z.array(
    z.object({
      address: text,
      displayName: text,
      fingerprint: z.string(),
      publicKey: z.string(),
      active: z.optional(z.boolean()),
    }),
  ),
});
export const replySchema = z.object({ id: z.string() });
/** The contact's own earlier replies (GET /session/replies): ids only; each is fetched and decrypted here. */
export const ownRepliesSchema = z.object({
  replies: z.array(z.object({ id: z.string(), inReplyTo: z.string(), createdAt: z.string() })),
});
export const keySchema = z.object({ fingerprint: z.string() });
const errorSchema = z.object({
  code: z.string(),
  attemptsLeft: z.optional(z.number()),
  problem: z.optional(z.string()),
});

export type Meta = z.infer<typeof metaSchema>;
export type Practice = z.infer<typeof practiceSchema>;
export type Kdf = z.infer<typeof kdf>;
export type MessageInfo = z.infer<typeof messagesSchema>['messages'][number];
export type SenderInfo = z.infer<typeof sendersSchema>['senders'][number];

export type Answer<T> =
  | { ok: true; status: number; data: T }
  | { ok: false; status: number; code: string; attemptsLeft?: number; problem?: string };

const BASE = '/api/pickup';
/**
 * The second half of the session secret (the first is the HttpOnly cookie): sent in this header with every
 * request under /session, held only in this module's memory. A document of the pickup origin other than
 * this app — a page someone managed to open there — has the cookie but not this, and gets 401.
 */
const SESSION_HEADER = 'Sealpost-Session';
let sessionKey: string | undefined;

/** Set after unlock, cleared when the session ends. */
export function useSessionKey(key: string | undefined): void {
  sessionKey = key;
}

function headers(path: string, extra: Record<string, string> = {}): Record<string, string> {
  return path.startsWith('/session') && sessionKey ? { ...extra, [SESSION_HEADER]: sessionKey } : extra;
}

async function answer<T>(res: Response, schema: z.ZodMiniType<T>): Promise<Answer<T>> {
  const body: unknown = await res.json().catch(() => undefined);
  if (res.ok) {
    const parsed = schema.safeParse(body);
    return parsed.success
      ? { ok: true, status: res.status, data: parsed.data }
      : { ok: false, status: res.status, code: 'bad-answer' };
  }
  const err = errorSchema.safeParse(body);
  return err.success
    ? { ok: false, status: res.status, ...err.data }
    : { ok: false, status: res.status, code: `http-${res.status}` };
}

interface Init {
  method?: 'POST';
  headers?: Record<string, string>;
  body?: string;
}

/** A network failure is an answer too (status 0), so that every caller shows something. */
async function call<T>(path: string, schema: z.ZodMiniType<T>, init: Init = {}): Promise<Answer<T>> {
  try {
    const res = await fetch(`${BASE}${path}`, {
      credentials: 'same-origin',
      cache: 'no-store',
      ...init,
      headers: headers(path, init.headers),
    });
    return await answer(res, schema);
  } catch {
    return { ok: false, status: 0, code: 'network' };
  }
}

export function get<T>(path: string, schema: z.ZodMiniType<T>): Promise<Answer<T>> {
  return call(path, schema);
}

export function post<T>(path: string, body: unknown, schema: z.ZodMiniType<T>): Promise<Answer<T>> {
  return call(path, schema, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** A binary answer (a stored OpenPGP message). */
export async function getBytes(path: string): Promise<Answer<Uint8Array>> {
  try {
    const res = await fetch(`${BASE}${path}`, {
      credentials: 'same-origin',
      cache: 'no-store',
      headers: headers(path),
    });
    if (!res.ok) return answer(res, z.never());
    return { ok: true, status: res.status, data: new Uint8Array(await res.arrayBuffer()) };
  } catch {
    return { ok: false, status: 0, code: 'network' };
  }
}

/** Logout that survives the page going away (pagehide): keepalive, fire and forget. */
export function logoutBeacon(): void {
  void fetch(`${BASE}/session/logout`, {
    method: 'POST',
    keepalive: true,
    credentials: 'same-origin',
    headers: headers('/session/logout', { 'Content-Type': 'application/json' }),
    body: '{}',
  }).catch(() => undefined);
}
