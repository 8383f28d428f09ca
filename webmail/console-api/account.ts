import { AuthLimiter, authLimitSettings } from '../../core/auth-limit.ts';
import { changeOwnPassword } from '../../keys/index.ts';
import { passwordChangeRequest } from '../contract/console-account.ts';
import { sendConsole } from './http.ts';
import type { ConsoleRoute, RouteContext } from './routes.ts';

/**
 * Her password change (/console/account, docs/console.md): the old password is checked under the same
 * failed-login limits as the sign-in (a guess here is a guess), then keys/console-password.ts changes the
 * SMTP password and stores her console key as her browser re-locked it, in one transaction.
 */
async function changePassword({ deps, req, res, user, audit }: RouteContext): Promise<void> {
  const body = passwordChangeRequest.safeParse(req.body);
  if (!body.success) return sendConsole(res, 'CON_BAD_REQUEST');
  const limiter = new AuthLimiter(deps.limitStore, authLimitSettings(deps.config.limits));
  const fields = { user: user.login, remote: req.ip ?? 'unknown' };
  const refused = await limiter.check(user.login, req.ip);
  if (refused) {
    deps.log.warn('CON_RATE_LIMITED', {
      ...fields,
      reason: refused.reason,
      ms: refused.retryAfterSeconds * 1000,
    });
    res.setHeader('Retry-After', String(refused.retryAfterSeconds));
    return sendConsole(res, 'CON_RATE_LIMITED', { retryAfterSeconds: refused.retryAfterSeconds });
  }
  const outcome = await changeOwnPassword({ stores: deps.db.stores, clock: deps.clock }, user, {
    oldPassword: body.data.oldPassword,
    newPassword: body.data.newPassword,
    key: {
      fingerprint: body.data.consoleKey.fingerprint,
      lockedPrivateKey: Buffer.from(body.data.consoleKey.lockedPrivateKey, 'base64'),
      kdf: body.data.consoleKey.kdf,
    },
    keepSession: user.hash,
  });
  if (outcome === 'wrong-password') {
    await limiter.recordFailure(user.login, req.ip);
    deps.log.warn('CON_PASSWORD_WRONG', fields);
    await audit('console.password-change-failed');
    return sendConsole(res, 'CON_PASSWORD_WRONG');
  }
  if (outcome === 'too-short') return sendConsole(res, 'CON_PASSWORD_TOO_SHORT');
  if (outcome === 'key-changed') return sendConsole(res, 'CON_KEY_CHANGED');
  await audit('console.password-changed');
  deps.log.info('CON_PASSWORD_CHANGED', fields);
  res.json({ ok: true });
}

/** The account screen: her password (TOTP enrolment stays on the first screen, webmail/console-api/totp.ts). */
export const accountRoutes: readonly ConsoleRoute[] = [
  {
    method: 'POST',
    path: '/account/password',
    role: 'user',
    handle: changePassword,
    summary: 'Change her own password (her console key is re-locked with it); the codes stay readable.',
    body: passwordChangeRequest,
  },
];
