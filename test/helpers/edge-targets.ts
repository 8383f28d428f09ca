import type { TestDbKind } from './db.ts';
import { replyCode, SENDER, SENDER_PASSWORD, startTestGateway, type TestGateway } from './gateway.ts';
import { ANNA, startTestInbound, type TestInbound } from './inbound.ts';
import { rawSmtpSession, type RawSmtpSession, type SmtpReply } from './raw-smtp.ts';

/**
 * Both listeners at once, for tests of the edge (keys/mime/edge.ts): the submission gateway with anna logged in
 * and a pinned key for bob@clinic.example, and the inbound listener relaying to a real sink; one raw SMTP
 * connection to each (bytes sent as they are). `submit` / `receive` answer `{ code, text, ours }` where
 * `ours` is the [CODE] of the reply.
 */
export const PGP_RCPT = 'bob@clinic.example';

export interface EdgeTargets {
  gw: TestGateway;
  inbound: TestInbound;
  submit(raw: Buffer | string, to?: readonly string[]): Promise<SmtpReply & { ours: string | undefined }>;
  receive(raw: Buffer | string, from?: string): Promise<SmtpReply & { ours: string | undefined }>;
  close(): Promise<void>;
}

export async function startEdgeTargets(kind: TestDbKind): Promise<EdgeTargets> {
  const gw = await startTestGateway({ kind });
  const inbound = await startTestInbound({ kind });
  let out: RawSmtpSession | undefined;
  let inn: RawSmtpSession | undefined;
  try {
    await gw.addRecipient(PGP_RCPT);
    out = await rawSmtpSession(gw.ports.submissionPort, {
      starttls: true,
      auth: { user: SENDER, pass: SENDER_PASSWORD },
    });
    inn = await rawSmtpSession(inbound.port, { starttls: true });
  } catch (err) {
    out?.close();
    await gw.close();
    await inbound.close();
    throw err;
  }
  const submission = out;
  const mx = inn;
  const withCode = (r: SmtpReply) => ({ ...r, ours: replyCode(r.text) });
  return {
    gw,
    inbound,
    submit: async (raw, to = [PGP_RCPT]) => withCode(await submission.send({ from: SENDER, to }, raw)),
    receive: async (raw, from = 'chef@clinic.example') => withCode(await mx.send({ from, to: [ANNA] }, raw)),
    close: async () => {
      submission.close();
      mx.close();
      await gw.close();
      await inbound.close();
    },
  };
}

/** A small valid message around `head` (header lines without the final CRLF) and `body`. */
export function mail(head: readonly string[], body = 'Text\r\n'): Buffer {
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${body}`, 'utf8');
}
