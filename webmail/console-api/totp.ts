import QRCode from 'qrcode';
import { beginTotp, confirmTotp, type TotpDeps } from '../../keys/index.ts';
import { totpRequest, type TotpBeginAnswer, totpBeginAnswer } from '../contract/console.ts';
import type { ConsoleApiDeps } from './deps.ts';
import { sendConsole } from './http.ts';
import type { ConsoleRoute, RouteContext } from './routes.ts';

/**
 * The console's second factor (docs/console.md): optional for a practitioner, required for an admin. The
 * TOTP itself is keys/totp.ts (one implementation with the CLI's `user add --admin`); here are the routes
 * and the QR code.
 */
export function totpDeps(deps: ConsoleApiDeps): TotpDeps {
  return { stores: deps.db.stores, sealer: deps.sealer, clock: deps.clock };
}

/** A new secret as an otpauth URI and a QR code (a PNG data: URL), or undefined when TOTP is on. */
export async function totpEnrolment(
  deps: ConsoleApiDeps,
  user: { id: string; login: string },
): Promise<TotpBeginAnswer | undefined> {
  const uri = await beginTotp(totpDeps(deps), user);
  return uri === undefined ? undefined : { uri, qr: await QRCode.toDataURL(uri, { margin: 2, width: 220 }) };
}

async function begin({ deps, res, user, audit }: RouteContext): Promise<void> {
  const answer = await totpEnrolment(deps, user);
  if (!answer) return sendConsole(res, 'CON_TOTP_ENABLED');
  await audit('console.totp.begin');
  res.json(answer);
}

async function confirm({ deps, req, res, user, audit }: RouteContext): Promise<void> {
  const body = totpRequest.safeParse(req.body);
  if (!body.success) return sendConsole(res, 'CON_BAD_REQUEST');
  const row = await deps.db.stores.console.totpOf(user.id);
  if (!row) return sendConsole(res, 'CON_BAD_REQUEST');
  if (row.enabled_at) return sendConsole(res, 'CON_TOTP_ENABLED');
  if (!(await confirmTotp(totpDeps(deps), user, body.data.totp))) {
    deps.log.warn('CON_TOTP_WRONG', { user: user.login, remote: req.ip ?? 'unknown' });
    return sendConsole(res, 'CON_TOTP_WRONG');
  }
  await audit('console.totp.enabled');
  deps.log.info('CON_TOTP_ENABLED', { user: user.login });
  res.json({ ok: true });
}

/** POST /totp/begin (a new secret: its otpauth URI and QR code) and POST /totp/confirm (her first code). */
export const totpRoutes: readonly ConsoleRoute[] = [
  {
    method: 'POST',
    path: '/totp/begin',
    role: 'user',
    handle: begin,
    summary: 'Begin TOTP enrolment: the otpauth URI and QR code, shown once.',
    answer: totpBeginAnswer,
  },
  {
    method: 'POST',
    path: '/totp/confirm',
    role: 'user',
    handle: confirm,
    summary: 'Confirm TOTP enrolment with a first code.',
    body: totpRequest,
  },
];
