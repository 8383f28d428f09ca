import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import nodemailer from 'nodemailer';
import type { Config } from '../core/config.ts';
import { parseRelayUrl, relayPoolOptions } from '../core/relay-url.ts';
import { tlsRecordingPool, type TlsInfo } from './tls-pool.ts';

/**
 * How the worker hands bytes on: to the relay named by SEALPOST_RELAY, or, with no relay, into
 * `<dataDir>/outbox/<id>.eml`. The bytes are sent unchanged (nodemailer's `raw`): the gateway built and
 * signed them, and re-composing would break signatures.
 */
export interface Envelope {
  /** '' is the null sender (MAIL FROM:<>), used for DSNs. */
  from: string;
  to: string;
}

export interface OutgoingMessage {
  id: string;
  envelope: Envelope;
  /**
   * The bytes, or a stream of them (a large spooled body, read a chunk at a time). A stream that errors
   * fails the send before the end of the message: the relay never gets the final dot, the outbox no file.
   */
  raw: Buffer | Readable;
}

/**
 * What the receiving server answered (its reply line, e.g. `250 2.0.0 Ok: queued as …`) and the TLS
 * protocol of the connection that carried the message (`TLSv1.3`; `none` in clear; absent for the outbox).
 */
export interface SendReceipt {
  reply?: string;
  tls?: string;
}

export interface Transport {
  send(message: OutgoingMessage): Promise<SendReceipt | void>;
  close(): void;
}

export { parseRelayUrl, type RelayOptions } from '../core/relay-url.ts';

export function createRelayTransport(config: Config, relay: string, name = 'SEALPOST_RELAY'): Transport {
  const options = parseRelayUrl(relay, name);
  const timeoutMs = config.delivery.connectionTimeoutSeconds * 1000;
  const transporter = nodemailer.createTransport(
    tlsRecordingPool(
      relayPoolOptions(options, {
        hostname: config.hostname,
        maxConnections: config.delivery.concurrency,
        timeoutMs,
        // A whole DATA phase of a large message may legitimately take a while; idle time is what we bound.
        socketTimeoutMs: timeoutMs * 4,
      }),
    ),
  );
  return {
    async send(message) {
      const info: { response?: unknown } & TlsInfo = await transporter.sendMail({
        envelope: { from: message.envelope.from, to: [message.envelope.to] },
        raw: message.raw,
      });
      return {
        ...(typeof info.response === 'string' ? { reply: info.response } : {}),
        ...(info.tlsProtocol ? { tls: info.tlsProtocol } : {}),
      };
    },
    close: () => transporter.close(),
  };
}

/**
 * Writes `<dir>/<id>.eml` atomically: a hidden temp file in the same folder, fsync, rename, fsync of the
 * folder. A reader never sees half a file; a retry overwrites the same name, so it is idempotent.
 * Like a local delivery agent, it prepends the envelope as `Return-Path:` and `Delivered-To:`: each copy
 * is for one recipient, and a Bcc recipient appears in no header of the message itself.
 */
export function createOutboxTransport(dir: string): Transport {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return {
    async send(message) {
      if (!/^[A-Za-z0-9-]+$/.test(message.id)) throw new Error('outbox: unsafe message id');
      const final = path.join(dir, `${message.id}.eml`);
      const temp = path.join(dir, `.${message.id}.${randomBytes(6).toString('hex')}.tmp`);
      try {
        const file = await open(temp, 'wx', 0o600);
        try {
          if (Buffer.isBuffer(message.raw)) {
            await file.writev([envelopeFields(message.envelope), message.raw]);
          } else {
            await file.write(envelopeFields(message.envelope));
            for await (const chunk of message.raw as AsyncIterable<Buffer>) {
              for (let at = 0; at < chunk.length;) at += (await file.write(chunk, at)).bytesWritten;
            }
          }
          await file.sync();
        } finally {
          await file.close();
        }
        await rename(temp, final);
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
      const folder = await open(dir, 'r');
      try {
        await folder.sync();
      } finally {
        await folder.close();
      }
    },
    close: () => undefined,
  };
}

function envelopeFields(envelope: { from: string; to: string }): Buffer {
  for (const address of [envelope.from, envelope.to]) {
    // smtp-server never passes these; a row written by other means must not inject header fields.
    if (/[\r\n<>]/.test(address)) throw new Error('outbox: unsafe envelope address');
  }
  return Buffer.from(`Return-Path: <${envelope.from}>\r\nDelivered-To: ${envelope.to}\r\n`, 'utf8');
}

/** The transport the configuration asks for. */
export function createTransport(config: Config): Transport {
  return config.relay
    ? createRelayTransport(config, config.relay)
    : createOutboxTransport(path.join(config.dataDir, 'outbox'));
}

/**
 * The practice's own mail server (SEALPOST_INBOUND_RELAY), where pickup replies are delivered decrypted
 * (worker/reply.ts); the same URL rules as the delivery relay: TLS unless the URL says `?tls=none`.
 */
export function createPracticeTransport(config: Config): Transport | undefined {
  return config.inboundRelay
    ? createRelayTransport(config, config.inboundRelay, 'SEALPOST_INBOUND_RELAY')
    : undefined;
}
