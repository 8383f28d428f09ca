import * as OTPAuth from 'otpauth';
import type { ConsoleSession } from './console.ts';

/**
 * An admin in the console (docs/console.md), from Node against the real API: an admin never gets a session
 * without TOTP. `adminEnrol` walks the first sign-in (password → 401 CON_TOTP_ENROL with a new secret →
 * password and a code → session); `adminSignIn` signs in with a code of a known secret.
 */
export type AdminSession = Pick<ConsoleSession, 'web' | 'cookie' | 'key' | 'login'>;

export async function postSignIn(web: string, body: Record<string, string>) {
  const res = await fetch(`${web}/api/console/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as {
    code?: string;
    uri?: string;
    session?: { key: string };
    user?: { login: string; role: string };
  };
  return { status: res.status, json, cookie: (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '' };
}

/** A code for one of the three accepted time steps: each sign-in of a test uses a step of its own. */
export function codeAt(totp: OTPAuth.TOTP, step: -1 | 0 | 1): string {
  return totp.generate({ timestamp: Date.now() + step * 30_000 });
}

export async function adminSignIn(
  web: string,
  login: string,
  password: string,
  code: string,
): Promise<AdminSession> {
  const r = await postSignIn(web, { login, password, totp: code });
  if (r.status !== 200 || !r.json.session) throw new Error(`admin sign-in: ${r.status} ${r.json.code}`);
  if (r.json.user?.role !== 'admin') throw new Error(`admin sign-in: role ${r.json.user?.role}`);
  return { web, cookie: r.cookie, key: r.json.session.key, login };
}

/** The first sign-in of an admin without TOTP: enrol, then sign in with the first code. */
export async function adminEnrol(
  web: string,
  login: string,
  password: string,
): Promise<{ session: AdminSession; totp: OTPAuth.TOTP }> {
  const first = await postSignIn(web, { login, password });
  if (first.json.code !== 'CON_TOTP_ENROL' || !first.json.uri) {
    throw new Error(`admin enrolment: ${first.status} ${first.json.code}`);
  }
  const totp = OTPAuth.URI.parse(first.json.uri) as OTPAuth.TOTP;
  return { session: await adminSignIn(web, login, password, codeAt(totp, 0)), totp };
}
