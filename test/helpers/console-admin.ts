import * as OTPAuth from 'otpauth';
import type { Page } from 'playwright-core';
import { enrolTotpNow } from '../../keys/index.ts';
import type { ConsoleSession } from './console.ts';
import type { Stack } from './stack.ts';

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

/** The first sign-in of an admin without TOTP: enrol, then sign in with the first code (returned: it is used up). */
export async function adminEnrol(
  web: string,
  login: string,
  password: string,
): Promise<{ session: AdminSession; totp: OTPAuth.TOTP; code: string }> {
  const first = await postSignIn(web, { login, password });
  if (first.json.code !== 'CON_TOTP_ENROL' || !first.json.uri) {
    throw new Error(`admin enrolment: ${first.status} ${first.json.code}`);
  }
  const totp = OTPAuth.URI.parse(first.json.uri) as OTPAuth.TOTP;
  const code = codeAt(totp, 0);
  return { session: await adminSignIn(web, login, password, code), totp, code };
}

/**
 * An admin of the console for the admin screens' browser tests: made in the users store with the admin role
 * and TOTP on (as `sealpost user add --admin` does), signed in through the sign-in screen with a code.
 */
export const ADMIN = 'admin@praxis.example';
export const ADMIN_PASSWORD = 'admin-horse-battery-staple';
let adminTotp: OTPAuth.TOTP | undefined;

export async function makeAdmin(stack: Stack): Promise<void> {
  const user = await stack.gw.users.add(
    { login: ADMIN, password: ADMIN_PASSWORD, isAdmin: true },
    new Date(),
  );
  const deps = {
    stores: stack.gw.testDb.db.stores,
    sealer: stack.gw.deps.sealer,
    clock: stack.gw.deps.clock,
  };
  lastStep = 0;
  adminTotp = OTPAuth.URI.parse(await enrolTotpNow(deps, user)) as OTPAuth.TOTP;
}

let lastStep = 0;

/**
 * A code of the admin's TOTP for a time step not used yet (the server takes each step once, in order). Only
 * the current and the next step: a code for the step before fails when the server checks it just after a
 * step boundary (two steps behind by then), which a loaded machine makes happen.
 */
async function freshCode(totp: OTPAuth.TOTP): Promise<string> {
  for (;;) {
    const now = Date.now();
    const step = Math.floor(now / 30_000);
    for (const offset of [0, 1]) {
      if (step + offset > lastStep) {
        lastStep = step + offset;
        return totp.generate({ timestamp: now + offset * 30_000 });
      }
    }
    await new Promise((r) => setTimeout(r, 30_000 - (now % 30_000) + 50));
  }
}

/** Open `/console<path>` (a deep link shows the sign-in first), sign in as the admin with a TOTP code. */
export async function signInAdmin(page: Page, stack: Stack, path: string, heading: RegExp): Promise<void> {
  if (!adminTotp) throw new Error('makeAdmin first');
  await page.goto(`${stack.web}/console${path}`);
  await page.locator('input[autocomplete="username"]').fill(ADMIN);
  await page.locator('input[autocomplete="current-password"]').fill(ADMIN_PASSWORD);
  await page.keyboard.press('Enter');
  const otp = page.locator('input[autocomplete="one-time-code"]');
  await otp.waitFor({ timeout: 60_000 });
  await otp.fill(await freshCode(adminTotp));
  await page.locator('input[autocomplete="current-password"]').fill(ADMIN_PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: heading }).first().waitFor({ timeout: 60_000 });
}
