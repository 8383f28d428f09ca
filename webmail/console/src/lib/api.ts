import * as z from 'zod/mini';
import * as contract from '../../../contract/console.ts';
import { displayText } from '../../../pickup/src/lib/display.ts';

/**
 * The console API of docs/console.md as the browser sees it: every answer is checked against the contract
 * shared with the server (webmail/contract/console.ts). The session key lives in this module's memory
 * only (with the HttpOnly cookie it makes the session); a reload signs her out.
 */
let sessionKey: string | undefined;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    /** The refusal's whole body (e.g. CON_TOTP_ENROL's `uri` and `qr`). */
    readonly body: unknown = undefined,
  ) {
    super(code);
  }
}

/** The session key header, for a request that is not JSON (a CSV download). */
export function sessionHeader(): Record<string, string> {
  return sessionKey ? { 'sealpost-console': sessionKey } : {};
}

export async function call<T>(
  method: 'GET' | 'POST',
  path: string,
  schema: z.ZodMiniType<T>,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = {};
  if (sessionKey) headers['sealpost-console'] = sessionKey;
  if (method === 'POST') headers['content-type'] = 'application/json';
  const res = await fetch(`/api/console${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
  });
  const json: unknown = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = contract.errorAnswer.safeParse(json);
    throw new ApiError(res.status, err.success ? err.data.code : 'CON_INTERNAL', json);
  }
  return schema.parse(json);
}

export async function signIn(login: string, password: string, totp?: string) {
  const answer = await call('POST', '/session', contract.signInAnswer, {
    login,
    password,
    ...(totp ? { totp } : {}),
  });
  sessionKey = answer.session.key;
  return answer;
}

export async function signOut(): Promise<void> {
  try {
    await call('POST', '/session/end', contract.okAnswer);
  } finally {
    sessionKey = undefined;
  }
}

export async function codes() {
  const answer = await call('GET', '/codes', contract.codesAnswer);
  return answer.codes.map((c) => ({ ...c, contact: displayText(c.contact) }));
}

export async function handedOver(id: string): Promise<void> {
  await call('POST', `/codes/${encodeURIComponent(id)}/handed-over`, contract.okAnswer);
}

export function beginTotp() {
  return call('POST', '/totp/begin', contract.totpBeginAnswer);
}

export async function confirmTotp(totp: string): Promise<void> {
  await call('POST', '/totp/confirm', contract.okAnswer, { totp });
}
