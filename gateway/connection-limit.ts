import type { Socket } from 'node:net';
import type { SMTPServer, SMTPServerSession } from 'smtp-server';
import { smtpError, smtpReplyLine, type Code } from '../core/errors.ts';
import type { Log } from '../core/log.ts';
import { clientKey, plainAddress } from '../core/net-address.ts';

/**
 * At most `limits.maxConnectionsPerIp` connections from one address (an IPv6 /64) on one listener, beside
 * smtp-server's `maxClients` over all: one address holding idle connections must not make the listener
 * answer everyone else 421. Counted in this process (docs/gateway.md "Connection limits").
 *
 * Two gates, for the two ways a client's address is known:
 * - at the TCP accept, by the socket's peer, before smtp-server sees the socket: this covers the TLS
 *   handshake of 465 and the 100 ms before smtp-server's greeting, which would otherwise hold one of
 *   `maxClients` too. The excess gets `421 4.7.0 … [CODE]` on a plain-text listener; on implicit TLS nothing
 *   can be said before the handshake, so its socket is closed.
 * - at the session (onConnect), by the session's address: behind a trusted PROXY-protocol proxy the TCP peer
 *   is the proxy for every client, so the proxy is not counted at the accept, and the clients it names are
 *   counted here. A direct client never reaches this gate's limit (the accept gate counts it first).
 */
export interface ConnectionLimitOptions {
  perIp: number;
  /** TCP peers that open each connection with a PROXY header (trustProxy.smtp): counted by the header. */
  proxies: readonly string[];
  /** 465: no reply can be written before the TLS handshake. */
  implicitTls: boolean;
  code: Extract<Code, 'GW_TOO_MANY_CONNECTIONS' | 'IN_TOO_MANY_CONNECTIONS'>;
  log: Log;
  port: number;
}

/** A refused socket may take this long (ms) to read the 421 before it is destroyed. */
const REFUSAL_LINGER_MS = 2_000;
/** One warning per address per minute: a flood of refusals must not become a flood of log lines. */
const LOG_EVERY_MS = 60_000;

/** Open connections per address; an address is forgotten when its last connection closes. */
export class OpenConnections {
  readonly #open = new Map<string, { count: number; loggedAt: number }>();
  constructor(private readonly limit: number) {}

  /** Count one more connection from `key`, or answer false (nothing counted) when it has `limit` already. */
  tryOpen(key: string): boolean {
    const entry = this.#open.get(key);
    if (!entry) this.#open.set(key, { count: 1, loggedAt: 0 });
    else if (entry.count >= this.limit) return false;
    else entry.count += 1;
    return true;
  }

  close(key: string): void {
    const entry = this.#open.get(key);
    if (!entry) return;
    entry.count -= 1;
    if (entry.count <= 0) this.#open.delete(key);
  }

  count(key: string): number {
    return this.#open.get(key)?.count ?? 0;
  }

  /** Whether a refusal for `key` should be logged now (at most once per LOG_EVERY_MS per address). */
  shouldLog(key: string, now: number): boolean {
    const entry = this.#open.get(key);
    if (!entry || now - entry.loggedAt < LOG_EVERY_MS) return false;
    entry.loggedAt = now;
    return true;
  }
}

export interface ConnectionLimit {
  /** The session gate: compose into the server's onConnect (before anything else) and onClose. */
  onConnect(session: SMTPServerSession, callback: (err?: Error | null) => void): void;
  onClose(session: SMTPServerSession): void;
  /** Put the accept gate in front of a built server (once, before it listens). */
  attach(server: SMTPServer): void;
}

export function connectionLimit(options: ConnectionLimitOptions): ConnectionLimit {
  const proxies = new Set(options.proxies.map(plainAddress));
  const sockets = new OpenConnections(options.perIp);
  const sessions = new OpenConnections(options.perIp);
  const counted = new WeakMap<SMTPServerSession, string>();
  const refused = (table: OpenConnections, key: string, remote: string | undefined) => {
    if (table.shouldLog(key, Date.now())) {
      options.log.warn(options.code, { remote, port: options.port, count: table.count(key) });
    }
  };
  return {
    onConnect: (session, callback) => {
      const key = clientKey(session.remoteAddress);
      if (!sessions.tryOpen(key)) {
        refused(sessions, key, session.remoteAddress);
        return callback(smtpError(options.code)); // smtp-server answers 421 with it and closes
      }
      counted.set(session, key);
      callback();
    },
    onClose: (session) => {
      const key = counted.get(session);
      if (key === undefined) return;
      counted.delete(session);
      sessions.close(key);
    },
    attach: (server) => {
      // smtp-server accepts sockets in the listener it gave net.createServer; ours runs first and hands over.
      const net = server.server;
      const accept = net.listeners('connection') as ((socket: Socket) => void)[];
      net.removeAllListeners('connection');
      net.on('connection', (socket: Socket) => {
        const peer = socket.remoteAddress;
        if (peer && proxies.has(plainAddress(peer))) return accept.forEach((l) => l.call(net, socket));
        const key = clientKey(peer);
        if (!sockets.tryOpen(key)) {
          refused(sockets, key, peer);
          return refuse(socket, options);
        }
        socket.once('close', () => sockets.close(key));
        accept.forEach((l) => l.call(net, socket));
      });
    },
  };
}

function refuse(socket: Socket, options: ConnectionLimitOptions): void {
  socket.on('error', () => undefined); // the peer may already be gone; nothing to tell anyone
  if (options.implicitTls) {
    socket.destroy();
    return;
  }
  socket.end(smtpReplyLine(options.code));
  setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS).unref();
}
