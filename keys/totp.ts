import * as OTPAuth from 'otpauth';
import type { Clock } from '../core/clock.ts';
import type { Sealer } from '../core/seal.ts';
import type { Stores } from '../core/store/index.ts';

/**
 * The console's second factor (docs/console.md), one implementation for the console API and the CLI
 * (`sealpost user add --admin`): TOTP (RFC 6238, SHA-1, 6 digits, 30 s — what every authenticator app
 * reads). The secret is sealed with the master key (the server must check codes) in the console store; a code
 * is accepted once (the last used time step is kept), one step either side.
 */
export interface TotpDeps {
  readonly stores: Stores;
  readonly sealer: Sealer;
  readonly clock: Clock;
}

type TotpUser = { readonly id: string; readonly login: string };

const PERIOD_MS = 30_000;

function totpFor(login: string, secret: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({
    issuer: 'Sealpost',
    label: login,
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    secret: OTPAuth.Secret.fromBase32(secret),
  });
}

function aad(userId: string): string {
  return `totp:${userId}`;
}

/**
 * A new pending secret for her (replacing a pending one) and its `otpauth://` URI, or undefined when her
 * second factor is on already (it cannot be restarted over an enabled one; an admin resets it).
 */
export async function beginTotp(deps: TotpDeps, user: TotpUser): Promise<string | undefined> {
  const secret = new OTPAuth.Secret({ size: 20 }).base32;
  const sealed = deps.sealer.seal('console', Buffer.from(secret, 'utf8'), aad(user.id));
  if (!(await deps.stores.console.beginTotp(user.id, sealed, deps.clock.now().getTime()))) return undefined;
  return totpFor(user.login, secret).toString();
}

/** Enrolment on the server (`user add --admin`): a new secret, enabled at once; its URI is shown once. */
export async function enrolTotpNow(deps: TotpDeps, user: TotpUser): Promise<string> {
  await deps.stores.console.dropTotp(user.id);
  const uri = await beginTotp(deps, user);
  if (!uri) throw new Error('TOTP secret could not be made');
  await deps.stores.console.enableTotp(user.id, deps.clock.now().getTime());
  return uri;
}

/**
 * Her second factor and a code: 'off' (none), 'pending' (begun, not confirmed), 'missing' (on, no code),
 * 'ok' (on, right code — now used up) or 'wrong'. A pending secret with a right code is enabled by
 * `confirmTotp`, not here.
 */
export async function checkTotp(
  deps: TotpDeps,
  user: TotpUser,
  token: string | undefined,
): Promise<'off' | 'pending' | 'ok' | 'missing' | 'wrong'> {
  const row = await deps.stores.console.totpOf(user.id);
  if (!row) return 'off';
  if (!row.enabled_at) return 'pending';
  if (!token) return 'missing';
  return (await useCode(deps, user, row.sealed_secret, token)) ? 'ok' : 'wrong';
}

/** Confirm a pending secret with her first code (which enables it): false when it is wrong or none waits. */
export async function confirmTotp(deps: TotpDeps, user: TotpUser, token: string): Promise<boolean> {
  const row = await deps.stores.console.totpOf(user.id);
  if (!row || row.enabled_at) return false;
  return useCode(deps, user, row.sealed_secret, token);
}

async function useCode(deps: TotpDeps, user: TotpUser, sealed: Uint8Array, token: string): Promise<boolean> {
  const secret = deps.sealer.open('console', sealed, aad(user.id)).toString('utf8');
  const now = deps.clock.now().getTime();
  const delta = totpFor(user.login, secret).validate({ token, timestamp: now, window: 1 });
  if (delta === null) return false;
  const step = Math.floor(now / PERIOD_MS) + delta;
  return deps.stores.console.useTotpStep(user.id, step, now);
}
