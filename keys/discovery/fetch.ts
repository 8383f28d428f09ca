import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

/**
 * One GET for a published key, bounded in time and size. Redirects are never followed: a key must come
 * from the host the address names (WKD) or the configured keyserver (VKS), and a 3xx counts as "no key
 * here". The certificate must verify against the system roots (or the injected `ca`).
 */
export interface FetchOptions {
  timeoutMs: number; // connect + headers + the whole body
  maxBytes: number;
  accept: string;
  lookup?: LookupFunction | undefined;
  ca?: string | Buffer | (string | Buffer)[] | undefined;
  port?: number | undefined; // overrides the URL's port (tests)
}

export type FetchOutcome =
  | { kind: 'ok'; body: Buffer }
  /** The source answered that it has nothing: 404/410, another 3xx/4xx (`status`), no such host, refused. */
  | { kind: 'absent'; status?: number; errName?: string }
  /** The source could not answer: timeout, 5xx, TLS or another network error. */
  | { kind: 'unavailable'; reason: 'timeout' | 'error'; status?: number; errName?: string }
  | { kind: 'too-large'; bytes: number }
  | { kind: 'rate-limited'; retryAfter: string | undefined };

/** "This name has no address" and "nobody listens": the source does not exist, which is an answer. */
const ABSENT_ERRORS = new Set(['ENOTFOUND', 'ENODATA', 'ECONNREFUSED']);

function errorName(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const name = err instanceof Error ? err.name : 'Error';
  return typeof code === 'string' ? `${name}:${code}` : name;
}

function classifyError(err: unknown): FetchOutcome {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && ABSENT_ERRORS.has(code)) return { kind: 'absent', errName: errorName(err) };
  return { kind: 'unavailable', reason: 'error', errName: errorName(err) };
}

function classifyStatus(res: http.IncomingMessage): FetchOutcome | null {
  const status = res.statusCode ?? 0;
  if (status === 200) return null;
  if (status === 429) {
    const header = res.headers['retry-after'];
    return { kind: 'rate-limited', retryAfter: Array.isArray(header) ? header[0] : header };
  }
  if (status >= 500 || status < 200) return { kind: 'unavailable', reason: 'error', status };
  return { kind: 'absent', status };
}

export function fetchKey(url: URL, options: FetchOptions): Promise<FetchOutcome> {
  const secure = url.protocol === 'https:';
  const request = secure ? https.request : http.request;
  return new Promise<FetchOutcome>((resolve) => {
    let settled = false;
    const finish = (outcome: FetchOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(outcome);
    };
    const req = request({
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: options.port ?? (url.port ? Number(url.port) : secure ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers: { accept: options.accept, 'user-agent': 'Sealpost key discovery' },
      agent: false,
      ...(options.lookup ? { lookup: options.lookup } : {}),
      ...(secure && options.ca ? { ca: options.ca } : {}),
    });
    const timer = setTimeout(() => finish({ kind: 'unavailable', reason: 'timeout' }), options.timeoutMs);
    req.on('error', (err) => finish(classifyError(err)));
    req.on('response', (res) => {
      res.on('error', (err) => finish(classifyError(err)));
      const other = classifyStatus(res);
      if (other) {
        finish(other);
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > options.maxBytes) {
        finish({ kind: 'too-large', bytes: declared });
        return;
      }
      const chunks: Buffer[] = [];
      let total = 0;
      res.on('data', (chunk: Buffer) => {
        total += chunk.length;
        // Never buffer more than maxBytes from a peer: a bigger "key" is dropped as soon as it is one.
        if (total > options.maxBytes) finish({ kind: 'too-large', bytes: total });
        else chunks.push(chunk);
      });
      res.on('end', () => {
        if (res.complete) finish({ kind: 'ok', body: Buffer.concat(chunks, total) });
        else finish({ kind: 'unavailable', reason: 'error', errName: 'IncompleteBody' });
      });
      res.on('aborted', () => finish({ kind: 'unavailable', reason: 'error', errName: 'Aborted' }));
    });
    req.end();
  });
}
