import * as OTPAuth from 'otpauth';
import QRCode from 'qrcode';
import { totpRequest, type TotpBeginAnswer } from '../contract/console.ts';
import type { ConsoleApiDeps } from './deps.ts';
import { sendConsole } from './http.ts';
import type { ConsoleRoute, RouteContext } from './routes.ts';

/**
 * The console's optional second factor (docs/console.md): TOTP (RFC 6238, SHA-1, 6 digits, 30 s — what
 * every authenticator app reads), enrolled by QR code. The secret is sealed with the master key (the server
 * must check codes); a code is accepted once (the last used time step is kept), one step either side.
 */
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

/** Is her second factor on, and does `token` pass it? A right code is used up (never accepted twice). */
export async function checkTotp(
  deps: ConsoleApiDeps,
  user: { id: string; login: string },
  token: string | undefined,
): Promise<'off' | 'ok' | 'missing' | 'wrong'> {
  const row = await deps.db.stores.console.totpOf(user.id);
  if (!row?.enabled_at) return 'off';
  if (!token) return 'missing';
  return (await useCode(deps, user, row.sealed_secret, token)) ? 'ok' : 'wrong';
}

async function useCode(
  deps: ConsoleApiDeps,
  user: { id: string; login: string },
  sealed: Uint8Array,
  token: string,
): Promise<boolean> {
  const secret = deps.sealer.open('console', sealed, aad(user.id)).toString('utf8');
  const now = deps.clock.now().getTime();
  const delta = totpFor(user.login, secret).validate({ token, timestamp: now, window: 1 });
  if (delta === null) return false;
  const step = Math.floor(now / PERIOD_MS) + delta;
  return deps.db.stores.console.useTotpStep(user.id, step, now);
}

async function begin({ deps, res, user, audit }: RouteContext): Promise<void> {
  const secret = new OTPAuth.Secret({ size: 20 }).base32;
  const sealed = deps.sealer.seal('console', Buffer.from(secret, 'utf8'), aad(user.id));
  const now = deps.clock.now().getTime();
  if (!(await deps.db.stores.console.beginTotp(user.id, sealed, now))) {
    return sendConsole(res, 'CON_TOTP_ENABLED');
  }
  const uri = totpFor(user.login, secret).toString();
  await audit('console.totp.begin');
  const answer: TotpBeginAnswer = { uri, qr: await QRCode.toDataURL(uri, { margin: 2, width: 220 }) };
  res.json(answer);
}

async function confirm({ deps, req, res, user, audit }: RouteContext): Promise<void> {
  const body = totpRequest.safeParse(req.body);
  if (!body.success) return sendConsole(res, 'CON_BAD_REQUEST');
  const row = await deps.db.stores.console.totpOf(user.id);
  if (!row) return sendConsole(res, 'CON_BAD_REQUEST');
  if (row.enabled_at) return sendConsole(res, 'CON_TOTP_ENABLED');
  if (!(await useCode(deps, user, row.sealed_secret, body.data.totp))) {
    deps.log.warn('CON_TOTP_WRONG', { user: user.login, remote: req.ip ?? 'unknown' });
    return sendConsole(res, 'CON_TOTP_WRONG');
  }
  await audit('console.totp.enabled');
  deps.log.info('CON_TOTP_ENABLED', { user: user.login });
  res.json({ ok: true });
}

/** POST /totp/begin (a new secret: its otpauth URI and QR code) and POST /totp/confirm (her first code). */
export const totpRoutes: readonly ConsoleRoute[] = [
  { method: 'POST', path: '/totp/begin', role: 'user', handle: begin },
  { method: 'POST', path: '/totp/confirm', role: 'user', handle: confirm },
];
