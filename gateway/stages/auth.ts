import type {
  SMTPServerAuthentication,
  SMTPServerAuthenticationResponse,
  SMTPServerSession,
} from 'smtp-server';
import { smtpError } from '../../core/errors.ts';
import { normaliseAddress } from '../../core/ids.ts';
import { errName } from '../../core/log.ts';
import { ensureConsoleKey } from '../../keys/index.ts';
import { sessionState, type GatewayContext } from '../submission-context.ts';
import { toSmtpReply } from '../smtp-reply.ts';

/** SMTP AUTH never carries more than this; a longer "login" is garbage and is not worth a database query. */
const MAX_LOGIN_LENGTH = 254;

/**
 * Stage 1, AUTH (PLAIN and LOGIN only, over TLS only). The limiter (core/auth-limit.ts, in Redis) is asked
 * before the password is checked, so that a limited login cannot be probed at all; failures are counted per
 * (account, address), per address and per account. When Redis does not answer, AUTH fails closed (454).
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
      (err: unknown) => callback(toSmtpReply(ctx.listener, session, err)),
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
  const fields = { user: login, remote, session: session.id };
  const refused = await ctx.limiter.check(login, remote).catch((err: unknown) => {
    // Fail closed: without the counts nobody may guess, so nobody gets in (454, the client retries).
    log.error('GW_AUTH_LIMIT_UNAVAILABLE', { ...fields, errName: errName(err) });
    throw smtpError('GW_AUTH_LIMIT_UNAVAILABLE');
  });
  if (refused) {
    log.warn('GW_AUTH_RATE_LIMITED', {
      ...fields,
      reason: refused.reason,
      ms: refused.retryAfterSeconds * 1000,
    });
    throw smtpError('GW_AUTH_RATE_LIMITED', `retry in ${refused.retryAfterSeconds} s`);
  }
  let user;
  try {
    user = await ctx.users.authenticate(login, auth.password ?? '');
  } catch (err) {
    log.error('GW_AUTH_TEMP_FAILURE', { ...fields, errName: errName(err) });
    throw smtpError('GW_AUTH_TEMP_FAILURE');
  }
  if (!user) {
    // The answer is 535 either way; a failure that could not be counted is logged (the next check fails closed).
    const wait = await ctx.limiter.recordFailure(login, remote).catch((err: unknown) => {
      log.error('GW_AUTH_LIMIT_UNAVAILABLE', { ...fields, errName: errName(err) });
      return 0;
    });
    log.warn('GW_AUTH_FAILED', { ...fields, ...(wait ? { ms: wait * 1000 } : {}) });
    throw smtpError('GW_AUTH_FAILED');
  }
  // The password was right and was checked under the limits: a success that cannot be recorded only means
  // the pair's failures are not forgiven yet.
  await ctx.limiter.recordSuccess(login, remote).catch((err: unknown) => {
    log.error('GW_AUTH_LIMIT_UNAVAILABLE', { ...fields, errName: errName(err) });
  });
  sessionState(ctx, session).user = { id: user.id, login: user.login };
  log.info('GW_AUTH_OK', { user: user.login, remote, session: session.id });
  await consoleKeyAtLogin(ctx, user, auth.password ?? '');
  return user.login;
}

/**
 * Her console key, made now if she has none (docs/console.md): the password is in memory only here. A
 * failure does not refuse the login; a new contact of hers is then refused 451 at DATA (fail closed).
 */
async function consoleKeyAtLogin(
  ctx: GatewayContext,
  user: { id: string; login: string },
  password: string,
): Promise<void> {
  const { db, crypto, clock, log } = ctx.deps;
  try {
    const made = await ensureConsoleKey({ stores: db.stores, crypto, clock }, user, password);
    if (made === 'created') log.info('GW_CONSOLE_KEY_CREATED', { user: user.login });
  } catch (err) {
    log.error('GW_CONSOLE_KEY_FAILED', { user: user.login, errName: errName(err) });
  }
}
