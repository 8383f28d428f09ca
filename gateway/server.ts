import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { smtpError } from '../core/errors.ts';
import { errName } from '../core/log.ts';
import { connectionLimit, type ConnectionLimit } from './connection-limit.ts';
import { createContext, type GatewayContext, type GatewayDeps } from './submission-context.ts';
import { onAuth } from './stages/auth.ts';
import { onData } from './stages/data.ts';
import { onMailFrom } from './stages/mail-from.ts';
import { onRcptTo } from './stages/rcpt-to.ts';

export type { GatewayDeps } from './submission-context.ts';

export interface Gateway {
  /** Bind both ports (from config; 0 picks a free port) and report where they are. */
  listen(): Promise<{ submissionPort: number; smtpsPort: number }>;
  /** Stop accepting, let sessions finish (smtp-server closes idle ones), resolve when both are closed. */
  close(): Promise<void>;
}

/** An idle client is dropped after this long (ms): a slowloris must not hold one of `maxClients`. */
const SOCKET_TIMEOUT_MS = 5 * 60 * 1000;
/**
 * On close (SIGTERM), sessions get this long (ms) to finish; then smtp-server answers 421 and closes them.
 * An idle client must not hold the process for the socket timeout above (docs/configuration.md "Stopping").
 */
export const SMTP_DRAIN_MS = 5_000;

/**
 * The submission gateway: two smtp-server instances sharing one pipeline — 587-style STARTTLS (AUTH only
 * after STARTTLS) and 465-style implicit TLS. Building is separate from listening; only main binds ports.
 */
export function createGateway(deps: GatewayDeps): Gateway {
  const ctx = createContext(deps);
  const submission = buildServer(ctx, false);
  const smtps = buildServer(ctx, true);
  for (const [server, port] of [
    [submission, deps.config.smtpPort],
    [smtps, deps.config.smtpsPort],
  ] as const) {
    // A server-level error (a socket or TLS failure) must be logged, never crash the process.
    server.on('error', (err) => deps.log.warn('GW_SERVER_ERROR', { port, errName: errName(err) }));
  }
  return {
    listen: async () => ({
      submissionPort: await listen(submission, deps.config.smtpPort, deps.config.listenHost),
      smtpsPort: await listen(smtps, deps.config.smtpsPort, deps.config.listenHost),
    }),
    close: async () => {
      await Promise.all([close(submission), close(smtps)]);
    },
  };
}

/** VRFY/EXPN would let anyone probe addresses; XCLIENT/XFORWARD would let a client claim another IP. */
const ALWAYS_DISABLED = ['VRFY', 'EXPN', 'XCLIENT', 'XFORWARD'];

/** smtp-server reads a per-session `disabledCommands` that replaces the server-wide list. */
type SessionWithCommands = SMTPServerSession & { disabledCommands?: string[] };

/** Build one listener: its options, and the per-address connection limit in front of it. */
function buildServer(ctx: GatewayContext, secure: boolean): SMTPServer {
  const { config, log } = ctx.deps;
  const limit = connectionLimit({
    perIp: config.limits.maxConnectionsPerIp,
    proxies: config.trustProxy.smtp,
    implicitTls: secure,
    code: 'GW_TOO_MANY_CONNECTIONS',
    log,
    port: secure ? config.smtpsPort : config.smtpPort,
  });
  const server = new SMTPServer(serverOptions(ctx, secure, limit));
  limit.attach(server);
  return server;
}

function serverOptions(
  ctx: GatewayContext,
  secure: boolean,
  limit: ConnectionLimit,
): SMTPServerOptions & { authRequiredMessage: string } {
  const { config, tls } = ctx.deps;
  const disabled = secure ? [...ALWAYS_DISABLED, 'STARTTLS'] : ALWAYS_DISABLED;
  return {
    secure,
    key: tls.key,
    cert: tls.cert,
    minVersion: 'TLSv1.2',
    name: config.hostname,
    banner: 'Sealpost',
    size: config.limits.maxMessageBytes,
    maxClients: config.limits.maxConnections,
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: false,
    authOptional: false,
    disabledCommands: disabled,
    authRequiredMessage: smtpError('GW_AUTH_REQUIRED').message,
    useXClient: false,
    useXForward: false,
    // PROXY protocol v1 from the configured proxies only (trustProxy.smtp), never from anyone else.
    useProxy: config.trustProxy.smtp.length ? [...config.trustProxy.smtp] : false,
    disableReverseLookup: true,
    socketTimeout: SOCKET_TIMEOUT_MS,
    closeTimeout: SMTP_DRAIN_MS,
    // smtp-server's own logger would print addresses and commands as free text; we log codes ourselves.
    logger: false,
    // Before STARTTLS, AUTH is neither offered nor accepted (RFC 4954 §4: no password in clear), so that a
    // client never tries; after the handshake the server-wide list applies again.
    onConnect: (session: SessionWithCommands, callback) =>
      limit.onConnect(session, (err) => {
        if (err) return callback(err);
        if (!session.secure) session.disabledCommands = [...disabled, 'AUTH'];
        callback();
      }),
    onClose: (session) => limit.onClose(session),
    onSecure: (_socket, session: SessionWithCommands, callback) => {
      session.disabledCommands = disabled;
      callback();
    },
    onAuth: onAuth(ctx),
    onMailFrom: onMailFrom(ctx),
    onRcptTo: onRcptTo(ctx),
    onData: onData(ctx),
  };
}

function listen(server: SMTPServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.server.once('error', onError);
    server.listen(port, host, () => {
      server.server.off('error', onError);
      resolve((server.server.address() as AddressInfo).port);
    });
  });
}

function close(server: SMTPServer): Promise<void> {
  return new Promise((resolve) => {
    if (!server.server.listening) return resolve();
    server.close(() => resolve());
  });
}
