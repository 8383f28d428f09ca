import * as z from 'zod/mini';
import * as contract from '../../../contract/pickup.ts';
import { displayText } from './display.ts';

/**
 * The pickup API of docs/pickup.md, as the browser sees it. Every answer is checked against its schema —
 * the contract shared with the server (webmail/contract/pickup.ts) — before the app uses it; an error answer is `{ code, message }` plus extras (attemptsLeft, problem).
 * Names and addresses the app shows are neutralised here (display.ts), at the edge.
 */
const shown = displayText;
export const metaSchema = z.pipe(
  contract.metaAnswer,
  z.transform((m) => ({ ...m, sender: { displayName: shown(m.sender.displayName) } })),
);
export const unlockSchema = contract.unlockAnswer;
export const sessionSchema = contract.sessionAnswer;
export const messagesSchema = z.pipe(
  contract.messagesAnswer,
  z.transform((a) => ({
    messages: a.messages.map((m) => ({
      ...m,
      sender: { ...m.sender, address: shown(m.sender.address), displayName: shown(m.sender.displayName) },
    })),
  })),
);
export const sendersSchema = z.pipe(
  contract.sendersAnswer,
  z.transform((a) => ({
    senders: a.senders.map((s) => ({ ...s, address: shown(s.address), displayName: shown(s.displayName) })),
  })),
);
export const replySchema = contract.replyAnswer;
/** The contact's own earlier replies (GET /session/replies): ids only; each is fetched and decrypted here. */
export const ownRepliesSchema = contract.ownRepliesAnswer;
/** The operator block (GET /api/pickup/practice): who runs this page, shown on every screen. */
export const practiceSchema = z.pipe(
  contract.practiceAnswer,
  z.transform((p) => ({
    ...p,
    name: shown(p.name),
    ...(p.address === undefined ? {} : { address: shown(p.address) }),
    ...(p.phone === undefined ? {} : { phone: shown(p.phone) }),
    ...(p.securityWord === undefined ? {} : { securityWord: shown(p.securityWord) }),
  })),
);
export const keySchema = contract.ownKeyAnswer;
export const okSchema = contract.okAnswer;
const errorSchema = contract.errorAnswer;
export type { OwnKeyRequest, ReplyRequest, SecretRequest, UnlockRequest } from '../../../contract/pickup.ts';

export type Meta = z.infer<typeof metaSchema>;
export type Practice = z.infer<typeof practiceSchema>;
export type Kdf = contract.Kdf;
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
