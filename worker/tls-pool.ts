import { TLSSocket } from 'node:tls';
import SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import type PoolResource from 'nodemailer/lib/smtp-pool/pool-resource.js';

/**
 * nodemailer's pooled SMTP transport, telling for each message the TLS protocol of the connection that
 * carried it (docs/console.md "Sent messages": "delivered with the receiving server's reply and TLS
 * version"). nodemailer reports the reply but not the connection; a pool resource holds its SMTPConnection,
 * whose socket after STARTTLS (or on an implicit-TLS port) is a TLSSocket. The pool makes its resources in
 * `_createConnection` (nodemailer 10, not in its typings); each new resource's `send` is wrapped so that the
 * protocol is read from the socket the message went over, at the moment the server answered. Should a
 * nodemailer release rename that method, the pool still sends and the protocol is simply not recorded
 * (test/integration/delivery-tls.test.ts fails then).
 */
export type TlsInfo = { tlsProtocol?: string };

interface PoolInternals {
  _createConnection?: () => PoolResource;
}

/** `TLSv1.3` (whatever the socket negotiated), `none` for a clear connection, undefined when unknown. */
export function protocolOf(resource: PoolResource): string | undefined {
  const socket = resource.connection?._socket;
  if (!socket) return undefined;
  if (socket instanceof TLSSocket) return socket.getProtocol() ?? undefined;
  return 'none';
}

export function tlsRecordingPool(options: SMTPPool.Options): SMTPPool {
  const pool = new SMTPPool(options);
  const internals = pool as unknown as PoolInternals;
  const create = internals._createConnection?.bind(pool);
  if (!create) return pool;
  internals._createConnection = () => {
    const resource = create();
    const send = resource.send.bind(resource);
    resource.send = (mail, callback) =>
      send(mail, (err, info) => {
        if (!err && info) (info as TlsInfo).tlsProtocol = protocolOf(resource);
        callback(err, info);
      });
    return resource;
  };
  return pool;
}
