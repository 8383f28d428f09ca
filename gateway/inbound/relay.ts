import nodemailer from 'nodemailer';
import type { Config } from '../../core/config.ts';
import type { Code } from '../../core/errors.ts';
import { parseRelayUrl, relayPoolOptions } from '../../core/relay-url.ts';

/**
 * The client to the practice's own mail server (SEALPOST_INBOUND_RELAY): the same URL rules as outbound
 * delivery — STARTTLS required unless `?tls=none`, certificates verified unless `?tlsVerify=false`.
 * Nothing is queued here: `send` resolves only once the server accepted every recipient.
 */
export interface Relay {
  send(envelope: { from: string; to: readonly string[] }, message: Buffer): Promise<void>;
  close(): void;
}

/** Concurrent connections to the practice's server; a pooled connection carries up to 100 messages. */
const RELAY_CONNECTIONS = 8;

/** The error nodemailer gives when the server took some recipients and refused others. */
class PartlyRejected extends Error {
  override name = 'PartlyRejected';
  constructor(readonly responseCode: number) {
    super('the relay refused some recipients');
  }
}

export function createRelay(config: Config, url: string): Relay {
  const options = parseRelayUrl(url, 'SEALPOST_INBOUND_RELAY');
  const timeoutMs = config.inbound.relayTimeoutSeconds * 1000;
  const transporter = nodemailer.createTransport(
    relayPoolOptions(options, {
      hostname: config.hostname,
      maxConnections: RELAY_CONNECTIONS,
      timeoutMs,
      socketTimeoutMs: timeoutMs,
    }),
  );
  return {
    async send(envelope, message) {
      const info = await transporter.sendMail({
        envelope: { from: envelope.from, to: [...envelope.to] },
        raw: message,
      });
      // The sending MTA gets one reply for all recipients: a recipient refused downstream fails the whole.
      if (info.rejected.length > 0) {
        const first = info.rejectedErrors?.[0] as { responseCode?: number } | undefined;
        throw new PartlyRejected(first?.responseCode ?? 451);
      }
    },
    close: () => transporter.close(),
  };
}

/**
 * Our reply for a failed relay. Only a reply to the message itself (MAIL FROM, RCPT TO, DATA: nodemailer's
 * EENVELOPE and EMESSAGE) is the downstream verdict, passed on by its class; a failure to connect, to
 * greet, to start TLS or to log in is ours to retry: 4xx, so that the sending MTA keeps the message.
 */
export function relayFailureCode(err: unknown): Code {
  const e = err as { responseCode?: unknown; code?: unknown } | null;
  const verdict = err instanceof PartlyRejected || e?.code === 'EENVELOPE' || e?.code === 'EMESSAGE';
  const code = e?.responseCode;
  if (!verdict || typeof code !== 'number') return 'IN_RELAY_UNAVAILABLE';
  if (code >= 500 && code < 600) return 'IN_RELAY_REJECTED';
  return 'IN_RELAY_DEFERRED';
}
