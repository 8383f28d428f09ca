import { once } from 'node:events';
import net from 'node:net';

/**
 * A relay that speaks just enough SMTP (no TLS, no extensions) and keeps every byte of every DATA phase,
 * with whether the phase was ended by the final dot. Unlike an SMTP server library, it shows what a relay
 * got of a message whose sender dropped the connection in the middle of DATA (the library just discards it).
 */
export interface RawRelaySession {
  /** The bytes after `354`, up to the final dot when there was one. */
  data: Buffer;
  /** The DATA phase ended with CRLF.CRLF: the relay would have accepted (and delivered) the message. */
  complete: boolean;
}

export interface RawRelay {
  readonly url: string;
  readonly sessions: readonly RawRelaySession[];
  close(): Promise<void>;
}

const END = Buffer.from('\r\n.\r\n');

export async function startRawRelay(): Promise<RawRelay> {
  const sessions: RawRelaySession[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    let session: RawRelaySession | undefined;
    socket.write('220 raw-relay ESMTP\r\n');
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (session && !session.complete) {
          const end = buffer.indexOf(END);
          if (end < 0) {
            // Keep all but a possible start of the terminator for the next read.
            const keep = Math.max(0, buffer.length - END.length);
            session.data = Buffer.concat([session.data, buffer.subarray(0, keep)]);
            buffer = buffer.subarray(keep);
            return;
          }
          session.data = Buffer.concat([session.data, buffer.subarray(0, end + 2)]);
          session.complete = true;
          buffer = buffer.subarray(end + END.length);
          socket.write('250 2.0.0 queued\r\n');
          continue;
        }
        const eol = buffer.indexOf('\r\n');
        if (eol < 0) return;
        const line = buffer.subarray(0, eol).toString('latin1');
        buffer = buffer.subarray(eol + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') socket.write('250-raw-relay\r\n250 8BITMIME\r\n');
        else if (verb === 'HELO' || verb === 'MAIL' || verb === 'RCPT' || verb === 'RSET')
          socket.write('250 ok\r\n');
        else if (verb === 'NOOP') socket.write('250 ok\r\n');
        else if (verb === 'DATA') {
          session = { data: Buffer.alloc(0), complete: false };
          sessions.push(session);
          socket.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') {
          socket.end('221 bye\r\n');
          return;
        } else socket.write('502 not implemented\r\n');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}?tls=none`,
    sessions,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
