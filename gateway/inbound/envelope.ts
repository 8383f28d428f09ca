import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import { smtpError } from '../../core/errors.ts';
import { domainOf, isAddress, normaliseAddress } from '../../core/ids.ts';
import type { InboundContext } from './inbound-context.ts';
import { answer } from '../smtp-reply.ts';

/**
 * MAIL FROM and RCPT TO of the inbound listener. Anyone may send (this is the practice's MX), but only to
 * the practice's own addresses: a foreign domain is refused 550 5.7.1 (never an open relay), an unknown
 * address of a local domain 550 5.1.1.
 */
export function onMailFrom(ctx: InboundContext) {
  return (address: SMTPServerAddress, session: SMTPServerSession, callback: (err?: Error | null) => void) =>
    answer(
      ctx.listener,
      session,
      async () => {
        ctx.sessions.delete(session);
        const from = normaliseAddress(address.address);
        // '' is the null sender of bounces and auto-replies (RFC 5321 §4.5.5): it is allowed here.
        if (from !== '' && !isAddress(from)) throw smtpError('IN_BAD_ADDRESS');
        ctx.sessions.set(session, { mailFrom: from, recipients: [] });
      },
      callback,
    );
}

export function onRcptTo(ctx: InboundContext) {
  return (address: SMTPServerAddress, session: SMTPServerSession, callback: (err?: Error | null) => void) =>
    answer(ctx.listener, session, () => rcptTo(ctx, address, session), callback);
}

async function rcptTo(ctx: InboundContext, address: SMTPServerAddress, session: SMTPServerSession) {
  const { log, config } = ctx.deps;
  const tx = ctx.sessions.get(session);
  if (!tx) throw smtpError('IN_TEMP_FAILURE'); // smtp-server answers 503 before this can happen
  const rcpt = normaliseAddress(address.address);
  if (!isAddress(rcpt)) throw smtpError('IN_BAD_ADDRESS');
  if (tx.recipients.includes(rcpt)) return;
  if (tx.recipients.length >= config.limits.maxRecipients) throw smtpError('IN_TOO_MANY_RECIPIENTS');
  const where = await locate(ctx, rcpt);
  if (where !== 'local') {
    const code = where === 'foreign' ? 'IN_RELAY_DENIED' : 'IN_UNKNOWN_RECIPIENT';
    log.info(code, { session: session.id, rcpt, remote: session.remoteAddress });
    throw smtpError(code);
  }
  tx.recipients.push(rcpt);
}

/** Local: a known address (user_addresses) of a local domain (configured, or the senders' domains). */
async function locate(ctx: InboundContext, rcpt: string): Promise<'local' | 'unknown' | 'foreign'> {
  const { users } = ctx.deps.db.stores;
  const domain = domainOf(rcpt);
  const domains = ctx.deps.config.inbound.localDomains ?? (await users.allAddresses()).map(domainOf);
  if (!domains.includes(domain)) return 'foreign';
  return (await users.isKnownAddress(rcpt)) ? 'local' : 'unknown';
}
