import net from 'node:net';
import tls from 'node:tls';

/**
 * An SMTP client that sends a message's bytes exactly as given. nodemailer (and every real MTA) turns a
 * bare CR or bare LF into CRLF on the way out, so it cannot send the smuggling sequences the edge must
 * refuse; this one only dot-stuffs (a '.' at the start of the data or after LF, as smtp-server unstuffs)
 * and terminates the data. One connection carries many transactions (RSET before each).
 *
 *   const smtp = await rawSmtpSession(port, { starttls: true, auth: { user, pass } });
 *   const reply = await smtp.send({ from, to: [rcpt] }, bytes);   // { code: 250, text: '…' }
 *   smtp.close();
 */
export interface SmtpReply {
  code: number;
  text: string;
}

export interface RawSmtpSession {
  command(line: string): Promise<SmtpReply>;
  /** RSET, MAIL FROM, RCPT TO…, DATA and the bytes: the first reply that is not a success, or DATA's. */
  send(envelope: { from: string; to: readonly string[] }, raw: Buffer | string): Promise<SmtpReply>;
  close(): void;
}

export async function rawSmtpSession(
  port: number,
  options: { starttls?: boolean; auth?: { user: string; pass: string } } = {},
): Promise<RawSmtpSession> {
  let socket: net.Socket | tls.TLSSocket = net.connect(port, '127.0.0.1');
  let buffer = '';
  let waiting: { resolve: (r: SmtpReply) => void; reject: (e: Error) => void } | undefined;
  const take = (): void => {
    const m = /(?:^|\r\n)(\d{3}) [^\r\n]*\r\n/.exec(buffer);
    if (!m || !waiting) return;
    const end = m.index + m[0].length;
    const text = buffer.slice(0, end).trimEnd();
    buffer = buffer.slice(end);
    const w = waiting;
    waiting = undefined;
    w.resolve({ code: Number(m[1]), text });
  };
  const listen = (s: net.Socket): void => {
    s.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      take();
    });
    s.on('error', (err) => waiting?.reject(err));
    s.on('close', () => waiting?.reject(new Error('connection closed')));
  };
  listen(socket);
  const next = (): Promise<SmtpReply> =>
    new Promise((resolve, reject) => {
      waiting = { resolve, reject };
      take();
    });
  const command = (line: string): Promise<SmtpReply> => {
    const reply = next();
    socket.write(`${line}\r\n`);
    return reply;
  };
  const expect = async (line: string | undefined, code: number): Promise<void> => {
    const reply = line === undefined ? await next() : await command(line);
    if (reply.code !== code) throw new Error(`expected ${code} to ${line ?? 'greeting'}: ${reply.text}`);
  };

  await expect(undefined, 220);
  await expect('EHLO client.test', 250);
  if (options.starttls) {
    await expect('STARTTLS', 220);
    const plain = socket;
    plain.removeAllListeners('data');
    socket = tls.connect({ socket: plain, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve());
      socket.once('error', reject);
    });
    listen(socket);
    await expect('EHLO client.test', 250);
  }
  if (options.auth) {
    const token = Buffer.from(`\0${options.auth.user}\0${options.auth.pass}`).toString('base64');
    await expect(`AUTH PLAIN ${token}`, 235);
  }

  return {
    command,
    async send(envelope, raw) {
      await expect('RSET', 250);
      let reply = await command(`MAIL FROM:<${envelope.from}>`);
      if (reply.code !== 250) return reply;
      for (const rcpt of envelope.to) {
        reply = await command(`RCPT TO:<${rcpt}>`);
        if (reply.code !== 250) return reply;
      }
      reply = await command('DATA');
      if (reply.code !== 354) return reply;
      const done = next();
      socket.write(stuffed(Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8')));
      return done;
    },
    close: () => socket.destroy(),
  };
}

/** Dot-stuffing where smtp-server looks for it (start, or after LF), then CRLF . CRLF. */
function stuffed(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  if (raw[0] === 0x2e) parts.push(Buffer.from('.'));
  for (let i = raw.indexOf(0x0a); i >= 0; i = raw.indexOf(0x0a, i + 1)) {
    if (raw[i + 1] === 0x2e) {
      parts.push(raw.subarray(start, i + 1), Buffer.from('.'));
      start = i + 1;
    }
  }
  parts.push(raw.subarray(start));
  const endsWithCrlf = raw.length >= 2 && raw[raw.length - 2] === 0x0d && raw[raw.length - 1] === 0x0a;
  parts.push(Buffer.from(endsWithCrlf ? '.\r\n' : '\r\n.\r\n'));
  return Buffer.concat(parts);
}
