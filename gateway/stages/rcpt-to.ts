import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import { smtpError } from '../../core/errors.ts';
import { isAddress, normaliseAddress } from '../../core/ids.ts';
import { smtpNote } from '../../core/policy-rules.ts';
import { sessionState, type GatewayContext, type Transaction } from '../submission-context.ts';
import { answer } from '../smtp-reply.ts';
import { decideRecipient } from '../../keys/index.ts';

/**
 * Stage 3, RCPT TO: look the recipient's key up (stored keys, then WKD and VKS unless a rule covers the
 * recipient), apply the rules, keep the verdict on the session. Discovery awaits the network without
 * blocking other sessions; its time is bounded by `discovery.budgetMs`.
 * A reject or defer is answered for this recipient alone, with the recipient in the reply, so that the
 * sender learns precisely who could not be written to securely and why.
 */
export function onRcptTo(ctx: GatewayContext) {
  return (address: SMTPServerAddress, session: SMTPServerSession, callback: (err?: Error | null) => void) =>
    answer(ctx.listener, session, () => rcptTo(ctx, address, session), callback);
}

async function rcptTo(ctx: GatewayContext, address: SMTPServerAddress, session: SMTPServerSession) {
  const { log, config } = ctx.deps;
  const tx = sessionState(ctx, session).tx;
  if (!tx) throw smtpError('GW_AUTH_REQUIRED');
  const rcpt = normaliseAddress(address.address);
  if (!isAddress(rcpt)) throw smtpError('GW_BAD_ADDRESS');
  const others = tx.recipients.filter((r) => r.address !== rcpt);
  if (others.length >= config.limits.maxRecipients) throw smtpError('GW_TOO_MANY_RECIPIENTS');

  tx.rules ??= await ctx.rules.list();
  const { verdict, resolution, rule } = await decideRecipient({
    recipients: ctx.recipients,
    rules: tx.rules,
    config,
    recipient: rcpt,
    session: session.id,
    log,
  });
  const key = resolution.fact;
  log.info('GW_RCPT_VERDICT', {
    session: session.id,
    rcpt,
    verdict: verdict.verdict,
    reason: verdict.reason,
    ...(resolution.discovery === 'not-needed' ? {} : { source: `discovery:${resolution.discovery}` }),
  });
  if (verdict.verdict === 'reject' || verdict.verdict === 'defer') {
    // A reject rule's note (set by the admin, e.g. "send to the practice's portal instead") is shown to the sender.
    const note = verdict.code === 'GW_POLICY_REJECT' && rule?.note ? `: ${smtpNote(rule.note)}` : '';
    throw smtpError(verdict.code, `${rcpt}${note}`);
  }

  if (verdict.verdict === 'pgp') {
    if (key.state !== 'usable') throw smtpError('GW_TEMP_FAILURE'); // unreachable: pgp means usable
    await requireSenderKey(ctx, tx, session.id);
    tx.recipients = [
      ...others,
      { address: rcpt, verdict: { ...verdict, verdict: 'pgp' }, key: key.key, keySource: key.source },
    ];
  } else if (verdict.verdict === 'pickup') {
    await requireSenderKey(ctx, tx, session.id); // a pickup is signed by the sender too
    // An existing contact's public key is all the gateway needs; a new contact is created at DATA, in the
    // transaction that stores the message (no contact, and no code, for a message that never arrives).
    const contact = await ctx.contacts.find(rcpt);
    tx.recipients = [...others, { address: rcpt, verdict: { ...verdict, verdict: 'pickup' }, contact }];
  } else {
    tx.recipients = [...others, { address: rcpt, verdict: { ...verdict, verdict: 'plain' } }];
  }
}

/** A PGP/MIME copy is signed by the sender; without a signing key the message cannot go out (451). */
async function requireSenderKey(ctx: GatewayContext, tx: Transaction, session: string): Promise<void> {
  if (tx.sender) return;
  const sender = await ctx.deps.keys.senderKey(tx.mailFrom);
  if (!sender) {
    ctx.deps.log.warn('GW_NO_SENDER_KEY', { session, from: tx.mailFrom });
    throw smtpError('GW_NO_SENDER_KEY', tx.mailFrom);
  }
  tx.sender = sender;
}
