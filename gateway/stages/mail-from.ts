import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import { smtpError } from '../../core/errors.ts';
import { isAddress, normaliseAddress } from '../../core/ids.ts';
import { sessionState, type GatewayContext } from '../submission-context.ts';
import { answer } from '../smtp-reply.ts';

/**
 * Stage 2, MAIL FROM: the envelope sender must be an address the authenticated user may send as
 * (DESIGN.md "The gateway pipeline"). A new transaction starts here; earlier verdicts are dropped.
 */
export function onMailFrom(ctx: GatewayContext) {
  return (address: SMTPServerAddress, session: SMTPServerSession, callback: (err?: Error | null) => void) =>
    answer(ctx.listener, session, () => mailFrom(ctx, address, session), callback);
}

async function mailFrom(ctx: GatewayContext, address: SMTPServerAddress, session: SMTPServerSession) {
  const state = sessionState(ctx, session);
  state.tx = undefined;
  const user = state.user;
  if (!user) throw smtpError('GW_AUTH_REQUIRED');
  const from = normaliseAddress(address.address);
  // The null sender is for bounces; a person submitting mail has an address.
  if (from === '') throw smtpError('GW_SENDER_NOT_ALLOWED', '<>');
  if (!isAddress(from)) throw smtpError('GW_BAD_ADDRESS');
  if (!(await ctx.users.mayUseAddress(user.id, from))) {
    ctx.deps.log.warn('GW_SENDER_NOT_ALLOWED', { user: user.login, from, session: session.id });
    throw smtpError('GW_SENDER_NOT_ALLOWED', from);
  }
  state.tx = { mailFrom: from, recipients: [] };
}
