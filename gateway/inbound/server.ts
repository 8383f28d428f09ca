import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { errName } from '../../core/log.ts';
import { connectionLimit } from '../connection-limit.ts';
import { createInboundContext, type InboundDeps } from './inbound-context.ts';
import { onData } from './data.ts';
import { onMailFrom, onRcptTo } from './envelope.ts';
import { SMTP_DRAIN_MS } from '../server.ts';

export type { InboundDeps } from './inbound-context.ts';

export interface Inbound {
  /** Bind config.inboundPort (0 picks a free port) and report it. */
  listen(): Promise<number>;
  /** Stop accepting, let sessions finish, close the relay connections. */
  close(): Promise<void>;
}

/** An idle peer is dropped after this long (ms): a slowloris must not hold one of `maxClients`. */
const SOCKET_TIMEOUT_MS = 5 * 60 * 1000;
/** An MX needs no AUTH; VRFY/EXPN would let anyone probe addresses; XCLIENT/XFORWARD would let a peer lie. */
const DISABLED = ['AUTH', 'VRFY', 'EXPN', 'XCLIENT', 'XFORWARD'];

/**
 * The inbound listener (the practice's MX, or a hop its provider forwards to): STARTTLS offered with the
 * configured certificate, mail accepted only for local addresses, relayed in line to the practice's own
 * server. Building is separate from listening; only main binds the port.
 */
export function createInbound(deps: InboundDeps): Inbound {
  const ctx = createInboundContext(deps);
  const limit = connectionLimit({
    perIp: deps.config.limits.maxConnectionsPerIp,
    proxies: deps.config.trustProxy.smtp,
    implicitTls: false,
    code: 'IN_TOO_MANY_CONNECTIONS',
    log: deps.log,
    port: deps.config.inboundPort,
  });
  const options: SMTPServerOptions = {
    secure: false,
    key: deps.tls.key,
    cert: deps.tls.cert,
    minVersion: 'TLSv1.2',
    name: deps.config.hostname,
    banner: 'Sealpost',
    size: deps.config.limits.maxMessageBytes,
    maxClients: deps.config.limits.maxConnections,
    authOptional: true,
    disabledCommands: DISABLED,
    useXClient: false,
    useXForward: false,
    // PROXY protocol v1 from the configured proxies only (trustProxy.smtp), never from anyone else.
    useProxy: deps.config.trustProxy.smtp.length ? [...deps.config.trustProxy.smtp] : false,
    disableReverseLookup: true,
    socketTimeout: SOCKET_TIMEOUT_MS,
    closeTimeout: SMTP_DRAIN_MS,
    logger: false,
    onConnect: (session, callback) => limit.onConnect(session, callback),
    onClose: (session) => limit.onClose(session),
    onMailFrom: onMailFrom(ctx),
    onRcptTo: onRcptTo(ctx),
    onData: onData(ctx),
  };
  const server = new SMTPServer(options);
  limit.attach(server);
  server.on('error', (err) =>
    deps.log.warn('IN_SERVER_ERROR', { port: deps.config.inboundPort, errName: errName(err) }),
  );
  return {
    listen: () =>
      new Promise((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.server.once('error', onError);
        server.listen(deps.config.inboundPort, deps.config.listenHost, () => {
          server.server.off('error', onError);
          resolve((server.server.address() as AddressInfo).port);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        const done = () => {
          ctx.relay.close();
          resolve();
        };
        if (!server.server.listening) done();
        else server.close(done);
      }),
  };
}
