import net from 'node:net';
import tls from 'node:tls';

/**
 * A minimal SMTP submission client for the benchmark: STARTTLS, AUTH PLAIN, then messages one after the
 * other on the same connection. It measures, per message, the time from writing the final "." of DATA to
 * the server's reply — the gateway's own latency (encrypt, commit, enqueue), without the client's.
 */
export class BenchClient {
  #socket: net.Socket | tls.TLSSocket;
  #buffer = '';
  #waiting: ((line: string) => void) | undefined;
  #failing: ((err: Error) => void) | undefined;
  #closed = false;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  #attach(socket: net.Socket | tls.TLSSocket): void {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      this.#take();
    });
    socket.on('error', () => undefined);
    // A server that went away (killed mid-session) fails the reply being waited for, not hangs it.
    socket.on('close', () => {
      if (socket !== this.#socket) return; // the clear socket under STARTTLS
      this.#closed = true;
      const fail = this.#failing;
      this.#waiting = this.#failing = undefined;
      fail?.(new Error('connection closed'));
    });
  }

  #take(): void {
    const match = /(^|\n)(\d{3}) [^\n]*\n/.exec(this.#buffer);
    if (!match || !this.#waiting) return;
    const end = match.index + match[0].length;
    const reply = this.#buffer.slice(0, end);
    this.#buffer = this.#buffer.slice(end);
    const done = this.#waiting;
    this.#waiting = this.#failing = undefined;
    done(reply.trimEnd());
  }

  #reply(): Promise<string> {
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(new Error('connection closed'));
      this.#waiting = resolve;
      this.#failing = reject;
      this.#take();
    });
  }

  async #command(line: string, expect: string): Promise<string> {
    const reply = this.#reply();
    this.#socket.write(`${line}\r\n`);
    const text = await reply;
    if (!text.split('\n').pop()!.startsWith(expect)) throw new Error(`${line.split(' ')[0]}: ${text}`);
    return text;
  }

  /** Without a user, no AUTH: a sending MTA talking to the inbound listener. */
  static async connect(port: number, user?: string, pass?: string): Promise<BenchClient> {
    const socket = net.connect(port, '127.0.0.1');
    const client = new BenchClient(socket);
    await client.#reply();
    await client.#command('EHLO bench.local', '250');
    await client.#command('STARTTLS', '220');
    socket.removeAllListeners('data');
    const secure = tls.connect({ socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    client.#socket = secure;
    client.#attach(secure);
    await client.#command('EHLO bench.local', '250');
    if (user !== undefined)
      await client.#command(
        `AUTH PLAIN ${Buffer.from(`\0${user}\0${pass ?? ''}`).toString('base64')}`,
        '235',
      );
    return client;
  }

  /** Send one message; resolves with the milliseconds from end of DATA to the 250. */
  async send(from: string, to: string | readonly string[], body: Buffer): Promise<number> {
    await this.#command(`MAIL FROM:<${from}>`, '250');
    for (const rcpt of typeof to === 'string' ? [to] : to) await this.#command(`RCPT TO:<${rcpt}>`, '250');
    await this.#command('DATA', '354');
    const reply = this.#reply();
    this.#socket.write(body);
    const started = process.hrtime.bigint();
    this.#socket.write('\r\n.\r\n');
    const text = await reply;
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (!text.startsWith('250')) throw new Error(`DATA: ${text}`);
    return ms;
  }

  /** One RCPT alone (MAIL FROM, RCPT TO, RSET); resolves with the milliseconds RCPT took and its reply code. */
  async probeRcpt(from: string, to: string): Promise<{ ms: number; code: string }> {
    await this.#command(`MAIL FROM:<${from}>`, '250');
    const reply = this.#reply();
    const started = process.hrtime.bigint();
    this.#socket.write(`RCPT TO:<${to}>\r\n`);
    const text = await reply;
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    await this.#command('RSET', '250');
    return { ms, code: text.split('\n').pop()!.slice(0, 3) };
  }

  close(): void {
    this.#socket.end('QUIT\r\n');
  }
}
