import type {
  SMTPServerAuthentication,
  SMTPServerAuthenticationResponse,
  SMTPServerSession,
} from 'smtp-server';
import { smtpError } from '../../core/errors.ts';
import { normaliseAddress } from '../../core/ids.ts';
import { errName } from '../../core/log.ts';
import { sessionState, toReply, type GatewayContext } from '../context.ts';

/** SMTP AUTH never carries more than this; a longer "login" is garbage and is not worth a database query. */
const MAX_LOGIN_LENGTH = 254;

/**
 * Stage 1, AUTH (PLAIN and LOGIN only, over TLS only). The limiter is asked before the password is
 * checked, so that a limited account cannot be probed at all; failures are counted per account and IP.
 * Logs carry the code, the login and the remote IP — never the password.
 */
export function onAuth(ctx: GatewayContext) {
  return (
    auth: SMTPServerAuthentication,
    session: SMTPServerSession,
    callback: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void,
  ): void => {
    authenticate(ctx, auth, session).then(
      (login) => callback(null, { user: login }),
      (err: unknown) => callback(toReply(ctx, session, err)),
    );
  };
}

async function authenticate(
  ctx: GatewayContext,
  auth: SMTPServerAuthentication,
  session: SMTPServerSession,
): Promise<string> {
  const { log } = ctx.deps;
  const remote = session.remoteAddress;
  // smtp-server refuses AUTH before TLS (allowInsecureAuth: false); this is the second lock on the door.
  if (!session.secure) throw smtpError('GW_TLS_REQUIRED');
  if (auth.method !== 'PLAIN' && auth.method !== 'LOGIN') throw smtpError('GW_AUTH_FAILED');
  const login = normaliseAddress(auth.username ?? '').slice(0, MAX_LOGIN_LENGTH);
  if (ctx.limiter.isLimited(login, remote)) {
    log.warn('GW_AUTH_RATE_LIMITED', { user: login, remote, session: session.id });
    throw smtpError('GW_AUTH_RATE_LIMITED');
  }
  let user;
  try {
    user = await ctx.users.authenticate(login, auth.password ?? '');
  } catch (err) {
    log.error('GW_AUTH_TEMP_FAILURE', { user: login, remote, session: session.id, errName: errName(err) });
    throw smtpError('GW_AUTH_TEMP_FAILURE');
  }
  if (!user) {
    ctx.limiter.recordFailure(login, remote);
    log.warn('GW_AUTH_FAILED', { user: login, remote, session: session.id });
    throw smtpError('GW_AUTH_FAILED');
  }
  ctx.limiter.recordSuccess(login);
  sessionState(ctx, session).user = { id: user.id, login: user.login };
  log.info('GW_AUTH_OK', { user: user.login, remote, session: session.id });
  return user.login;
}
