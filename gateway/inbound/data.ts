import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { smtpError } from '../../core/errors.ts';
import { errName } from '../../core/log.ts';
import type { InboundContext } from './inbound-context.ts';
import { atEdge, readData } from '../edge.ts';
import { answerData } from '../smtp-reply.ts';
import { variantsOf, type Variant } from './message.ts';
import { relayFailureCode } from './relay.ts';
import { rfc5322Date } from '../../core/rfc5322-date.ts';

/**
 * DATA of the inbound listener, in line and without a spool: read the message (size-capped), decrypt in
 * memory, hand it to the practice's server, and answer the sending MTA with that server's verdict — 250
 * only after it accepted, 4xx when it cannot be reached (the sending MTA keeps the message and retries).
 * Nothing is written anywhere on the way.
 */
export function onData(ctx: InboundContext) {
  return (
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (err?: Error | null, message?: string) => void,
  ): void => {
    answerData(ctx.listener, session, () => data(ctx, stream, session), callback);
  };
}

async function data(ctx: InboundContext, stream: SMTPServerDataStream, session: SMTPServerSession) {
  const { log, config } = ctx.deps;
  const tx = ctx.sessions.get(session);
  ctx.sessions.delete(session); // one DATA per transaction, whatever happens below
  const read = await readData(ctx.listener, session.id, stream, config.limits.maxMessageBytes);
  if (!tx || tx.recipients.length === 0) throw smtpError('IN_TEMP_FAILURE');
  // One reading (invariant 8): what the edge refuses is refused before anything looks at it.
  const message = atEdge(ctx.listener, session.id, read.raw).raw;
  const started = Date.now();
  const trace = received(ctx, session);
  const variants = await variantsOf(ctx, message, tx, session.id);
  for (const variant of variants) await relay(ctx, session, tx.mailFrom, variant, trace);
  log.info('IN_RELAYED', {
    session: session.id,
    from: tx.mailFrom,
    count: tx.recipients.length,
    bytes: read.raw.length,
    verdict: variants.map((v) => v.outcome.kind).join(','),
    ms: Date.now() - started,
  });
  // Relayed (every byte written and answered): its memory goes back at once (edge.ts). Not on a failure,
  // which may leave a socket write still reading it; that buffer is left to the garbage collector.
  read.release();
  return smtpError('IN_RELAYED').message;
}

async function relay(
  ctx: InboundContext,
  session: SMTPServerSession,
  from: string,
  variant: Variant,
  trace: Buffer,
): Promise<void> {
  try {
    await ctx.relay.send({ from, to: variant.recipients }, Buffer.concat([trace, variant.message]));
  } catch (err) {
    const code = relayFailureCode(err);
    const smtpCode = (err as { responseCode?: unknown } | null)?.responseCode;
    ctx.deps.log.warn(code, {
      session: session.id,
      errName: errName(err),
      ...(typeof smtpCode === 'number' ? { smtpCode } : {}),
    });
    throw smtpError(code);
  }
}

/** Our trace field (RFC 5321 §4.4); the HELO name is the client's claim, reduced to safe characters. */
function received(ctx: InboundContext, session: SMTPServerSession): Buffer {
  const helo = (session.hostNameAppearsAs || 'unknown').replace(/[^A-Za-z0-9.:[\]-]/g, '').slice(0, 255);
  const date = rfc5322Date(ctx.deps.clock.now());
  const via = session.secure ? 'ESMTPS' : 'ESMTP';
  return Buffer.from(
    `Received: from ${helo} ([${session.remoteAddress}])\r\n\tby ${ctx.deps.config.hostname} (Sealpost) with ${via}; ${date}\r\n`,
    'latin1',
  );
}
