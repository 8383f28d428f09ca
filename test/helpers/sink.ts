import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

/**
 * A real receiving MX for tests: smtp-server on 127.0.0.1, port 0, offering STARTTLS with a self-signed
 * certificate (or implicit TLS with `secure: true`). It records every accepted message and can be told to
 * answer with a given reply for the next N recipients or messages.
 *
 *   const sink = await startSink();
 *   sink.failNext({ code: 451, message: '4.7.1 Please try again later' });  // one RCPT, then accept
 *   ... deliver to sink.relayUrl ...
 *   const [msg] = await sink.waitFor(1);                                       // resolves on arrival
 *   await sink.close();
 */
export interface SinkMessage {
  from: string; // '' for the null sender
  to: string[];
  raw: Buffer;
  secure: boolean; // whether the session was TLS when DATA arrived
}

export interface SinkReply {
  code: number; // e.g. 550
  message: string; // the text after the code, e.g. '5.1.1 User unknown'
}

export interface Sink {
  readonly port: number;
  /** SEALPOST_RELAY for this sink: STARTTLS (or smtps://) with certificate checks off (self-signed). */
  readonly relayUrl: string;
  /** Accepted messages, in arrival order. */
  readonly messages: readonly SinkMessage[];
  /** Replies given instead of accepting, in order (code only). */
  readonly rejected: readonly number[];
  /** Answer `reply` for the next `count` RCPT TO commands (stage 'rcpt', default) or DATA ends ('data'). */
  failNext(reply: SinkReply, count?: number, stage?: 'rcpt' | 'data'): void;
  /** Resolve with the messages once at least `count` were accepted; reject after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<SinkMessage[]>;
  close(): Promise<void>;
}

export interface SinkOptions {
  /** Implicit TLS (smtps://) instead of STARTTLS. */
  secure?: boolean;
  /** Offer STARTTLS (default true); false makes a server that can only talk in clear. */
  starttls?: boolean;
  /** Require this user and password (AUTH PLAIN/LOGIN). */
  auth?: { user: string; pass: string };
  /**
   * Hold the reply to DATA (the message was read in full) until the returned promise settles, e.g. to kill
   * the sending process meanwhile. A message whose client went away while it was held is not recorded: the
   * client never saw the 250, so the sink never took responsibility (RFC 5321 §6.1); it goes to `dropped`.
   */
  holdData?: (message: SinkMessage) => Promise<void>;
  /** Messages dropped because their client went away while `holdData` held the reply. */
  dropped?: SinkMessage[];
}

let cert: Promise<{ key: string; cert: string }> | undefined;

function certificate(): Promise<{ key: string; cert: string }> {
  cert ??= generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048 }).then((p) => ({
    key: p.private,
    cert: p.cert,
  }));
  return cert;
}

function replyError(reply: SinkReply): Error {
  return Object.assign(new Error(reply.message), { responseCode: reply.code });
}

export async function startSink(options: SinkOptions = {}): Promise<Sink> {
  const { key, cert: certPem } = await certificate();
  const messages: SinkMessage[] = [];
  const rejected: number[] = [];
  const failures: { rcpt: SinkReply[]; data: SinkReply[] } = { rcpt: [], data: [] };
  const waiters = new Set<() => void>();
  // Only with holdData: sessions whose connection ended, and how to drop a held message when it does.
  const closed = new Set<string>();
  const held = new Map<string, () => void>();
  const notify = (): void => waiters.forEach((w) => w());

  const serverOptions: SMTPServerOptions = {
    secure: options.secure ?? false,
    key,
    cert: certPem,
    authOptional: !options.auth,
    disabledCommands: [
      ...(options.auth ? [] : ['AUTH']),
      ...(options.starttls === false ? ['STARTTLS'] : []),
    ],
    allowInsecureAuth: false,
    hideSTARTTLS: options.starttls === false,
    logger: false,
    size: 50 * 1024 * 1024,
    onAuth(auth, _session, cb) {
      const ok = options.auth && auth.username === options.auth.user && auth.password === options.auth.pass;
      cb(ok ? null : Object.assign(new Error('5.7.8 Authentication failed'), { responseCode: 535 }), {
        user: auth.username,
      });
    },
    onRcptTo(_address, _session, cb) {
      const reply = failures.rcpt.shift();
      if (reply) rejected.push(reply.code);
      cb(reply ? replyError(reply) : undefined);
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const reply = failures.data.shift();
        if (reply) {
          rejected.push(reply.code);
          cb(replyError(reply));
          return;
        }
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const to = session.envelope.rcptTo.map((r) => r.address);
        const message = { from, to, raw: Buffer.concat(chunks), secure: session.secure };
        const accept = (): void => {
          messages.push(message);
          cb(null);
          notify();
        };
        const { holdData } = options;
        if (!holdData) {
          accept();
          return;
        }
        let settled = false;
        const settle = (gone: boolean): void => {
          if (settled) return;
          settled = true;
          held.delete(session.id);
          if (!gone) {
            accept();
            return;
          }
          options.dropped?.push(message);
          cb(Object.assign(new Error('4.4.2 Connection gone'), { responseCode: 421 }));
          notify();
        };
        held.set(session.id, () => settle(true));
        const release = (): void => settle(closed.has(session.id));
        holdData(message).then(release, release);
      });
    },
    ...(options.holdData
      ? {
          onClose(session: { id: string }) {
            closed.add(session.id);
            held.get(session.id)?.();
          },
        }
      : {}),
  };
  const server = new SMTPServer(serverOptions);
  server.on('error', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  const port = (server.server.address() as AddressInfo).port;
  const userInfo = options.auth
    ? `${encodeURIComponent(options.auth.user)}:${encodeURIComponent(options.auth.pass)}@`
    : '';
  const scheme = options.secure ? 'smtps' : 'smtp';

  return {
    port,
    relayUrl: `${scheme}://${userInfo}127.0.0.1:${port}?tlsVerify=false`,
    messages,
    rejected,
    failNext(reply, count = 1, stage = 'rcpt') {
      for (let i = 0; i < count; i++) failures[stage].push(reply);
    },
    waitFor(count, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (messages.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve([...messages]);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`sink: ${messages.length} of ${count} messages after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
