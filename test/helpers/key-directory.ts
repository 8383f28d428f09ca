import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, LookupFunction } from 'node:net';
import { generate } from 'selfsigned';
import type { DiscoveredVia, DiscoveryNet } from '../../keys/discovery/index.ts';
import { wkdAdvancedHost, wkdUrls } from '../../keys/discovery/wkd.ts';

/**
 * A Web Key Directory and a Verifying Keyserver on loopback, for tests and the bench. TEST ONLY.
 *
 * - One HTTPS server (test CA, SANs `<domain>` and `openpgpkey.<domain>` for every configured domain)
 *   answers both WKD methods by the Host header; one HTTP server answers `GET /vks/v1/by-email/<address>`.
 * - `net` is what KeyDiscovery needs to reach them: a resolver mapping those names (and nothing else) to
 *   127.0.0.1, the CA, and the WKD port. Global DNS and TLS settings are never touched.
 * - Every request is recorded in `requests`; `setBehaviour` makes one method slow, broken or rate-limited.
 */
export type DirectoryVia = DiscoveredVia;

export interface Behaviour {
  /** Wait this long before answering (the client may give up first). */
  delayMs?: number;
  /** Answer with this status and no key (e.g. 404, 500, 429). */
  status?: number;
  /** With status 429: the Retry-After header. */
  retryAfter?: string;
  /** Serve these bytes instead of the published key (garbage, a huge body). */
  body?: Uint8Array | string;
  /** Send the body without Content-Length (chunked), so the client must count while reading. */
  chunked?: boolean;
}

export interface RecordedRequest {
  via: DirectoryVia | 'other';
  host: string;
  path: string; // with the query
}

export interface KeyDirectory {
  net: Required<Pick<DiscoveryNet, 'lookup' | 'ca' | 'wkdPort'>>;
  vksUrl: string;
  /** The test CA (PEM) that signed the WKD server's certificate. */
  caPem: string;
  wkdPort: number;
  /** Publish a key (binary as WKD serves it, or armored text served as is) for an address. */
  publishWkd(
    address: string,
    key: Uint8Array | string,
    options?: { method?: 'advanced' | 'direct' | 'both' },
  ): void;
  /** Publish an armored key at the VKS for an address. */
  setVks(address: string, armored: string): void;
  /** Remove the address from both WKD methods and the VKS. */
  unpublish(address: string): void;
  /** Behaviour for one address (or '*': every address) at one method (or 'all'); null restores normal. */
  setBehaviour(address: string, via: DirectoryVia | 'all', behaviour: Behaviour | null): void;
  requests: RecordedRequest[];
  /** How many requests reached a method (optionally for one address). */
  count(via?: DirectoryVia, address?: string): number;
  close(): Promise<void>;
}

export interface KeyDirectoryOptions {
  domains: string[];
  /** Domains whose `openpgpkey.` host does not exist (the resolver answers ENOTFOUND for it). */
  withoutAdvancedHost?: string[];
}

/** A throw-away CA (EC P-256), also for "a certificate from an unknown CA" tests. */
export async function generateTestCa(): Promise<{ cert: string; key: string }> {
  const ca = await generate([{ name: 'commonName', value: 'Sealpost Test CA (TEST ONLY)' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  return { cert: ca.cert, key: ca.private };
}

function resolverFor(names: Set<string>): LookupFunction {
  return ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    const name = hostname.toLowerCase();
    setImmediate(() => {
      if (!names.has(name)) {
        const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
          code: 'ENOTFOUND',
          hostname,
        });
        callback(err);
      } else if (options?.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
      else callback(null, '127.0.0.1', 4);
    });
  }) as LookupFunction;
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startKeyDirectory(options: KeyDirectoryOptions): Promise<KeyDirectory> {
  const domains = options.domains.map((d) => d.toLowerCase());
  const noAdvanced = new Set((options.withoutAdvancedHost ?? []).map((d) => d.toLowerCase()));
  const hosts = domains.flatMap((d) => (noAdvanced.has(d) ? [d] : [d, wkdAdvancedHost(d)]));
  const ca = await generateTestCa();
  const tls = await generate([{ name: 'commonName', value: domains[0] ?? 'wkd.test' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ca: { key: ca.key, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: hosts.map((value) => ({ type: 2 as const, value })) },
    ],
  });

  const wkdKeys = new Map<string, Uint8Array | string>(); // host + pathname → key
  const vksKeys = new Map<string, string>(); // lower-cased address → armored key
  const pathToAddress = new Map<string, string>(); // host + pathname → lower-cased address
  const behaviours = new Map<string, Behaviour>(); // `${address}|${via}`
  const requests: RecordedRequest[] = [];
  const recordedAddress: string[] = []; // parallel to requests

  const wkdTargets = (address: string): { advanced: string; direct: string } => {
    const urls = wkdUrls(address);
    const target = (u: string): string => {
      const url = new URL(u);
      return `${url.hostname}${url.pathname}`;
    };
    return { advanced: target(urls.advanced), direct: target(urls.direct) };
  };

  const behaviourFor = (address: string | undefined, via: DirectoryVia): Behaviour | undefined =>
    (address ? behaviours.get(`${address}|${via}`) : undefined) ?? behaviours.get(`*|${via}`);

  const answer = (
    res: http.ServerResponse,
    behaviour: Behaviour | undefined,
    key: Uint8Array | string | undefined,
    contentType: string,
  ): void => {
    const send = (): void => {
      if (res.destroyed) return;
      if (behaviour?.status) {
        const headers: http.OutgoingHttpHeaders = {};
        if (behaviour.retryAfter !== undefined) headers['retry-after'] = behaviour.retryAfter;
        res.writeHead(behaviour.status, headers).end();
        return;
      }
      const body = behaviour?.body ?? key;
      if (body === undefined) {
        res.writeHead(404).end();
        return;
      }
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
      if (behaviour?.chunked) {
        res.writeHead(200, { 'content-type': contentType });
        for (let at = 0; at < bytes.length; at += 64 * 1024) res.write(bytes.subarray(at, at + 64 * 1024));
        res.end();
      } else {
        res.writeHead(200, { 'content-type': contentType, 'content-length': bytes.length }).end(bytes);
      }
    };
    if (behaviour?.delayMs) {
      const timer = setTimeout(send, behaviour.delayMs);
      res.on('close', () => clearTimeout(timer));
    } else send();
  };

  const wkd = https.createServer({ key: tls.private, cert: tls.cert }, (req, res) => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const url = new URL(req.url ?? '/', 'https://x');
    const target = `${host}${url.pathname}`;
    const via: DirectoryVia | 'other' = host.startsWith('openpgpkey.')
      ? 'wkd-advanced'
      : url.pathname.startsWith('/.well-known/openpgpkey/hu/')
        ? 'wkd-direct'
        : 'other';
    const address = pathToAddress.get(target);
    requests.push({ via, host, path: req.url ?? '/' });
    recordedAddress.push(address ?? '');
    if (url.pathname.endsWith('/policy')) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end();
      return;
    }
    if (via === 'other') {
      res.writeHead(404).end();
      return;
    }
    answer(res, behaviourFor(address, via), wkdKeys.get(target), 'application/octet-stream');
  });

  const vks = http.createServer((req, res) => {
    const prefix = '/vks/v1/by-email/';
    const path = req.url ?? '/';
    let address: string | undefined;
    try {
      address = path.startsWith(prefix)
        ? decodeURIComponent(path.slice(prefix.length)).toLowerCase()
        : undefined;
    } catch {
      address = undefined;
    }
    requests.push({ via: address ? 'vks' : 'other', host: req.headers.host ?? '', path });
    recordedAddress.push(address ?? '');
    if (!address) {
      res.writeHead(400).end();
      return;
    }
    answer(res, behaviourFor(address, 'vks'), vksKeys.get(address), 'application/pgp-keys');
  });

  const wkdPort = await listen(wkd);
  const vksPort = await listen(vks);

  return {
    net: { lookup: resolverFor(new Set(hosts)), ca: ca.cert, wkdPort },
    vksUrl: `http://127.0.0.1:${vksPort}`,
    caPem: ca.cert,
    wkdPort,
    publishWkd(address, key, publishOptions = {}) {
      const method = publishOptions.method ?? 'both';
      const targets = wkdTargets(address);
      for (const which of ['advanced', 'direct'] as const) {
        pathToAddress.set(targets[which], address.toLowerCase());
        if (method === which || method === 'both') wkdKeys.set(targets[which], key);
        else wkdKeys.delete(targets[which]);
      }
    },
    setVks(address, armored) {
      vksKeys.set(address.toLowerCase(), armored);
    },
    unpublish(address) {
      const targets = wkdTargets(address);
      wkdKeys.delete(targets.advanced);
      wkdKeys.delete(targets.direct);
      vksKeys.delete(address.toLowerCase());
    },
    setBehaviour(address, via, behaviour) {
      const who = address === '*' ? '*' : address.toLowerCase();
      if (who !== '*') {
        const targets = wkdTargets(address);
        pathToAddress.set(targets.advanced, who);
        pathToAddress.set(targets.direct, who);
      }
      const vias: DirectoryVia[] = via === 'all' ? ['wkd-advanced', 'wkd-direct', 'vks'] : [via];
      for (const v of vias) {
        if (behaviour) behaviours.set(`${who}|${v}`, behaviour);
        else behaviours.delete(`${who}|${v}`);
      }
    },
    requests,
    count(via, address) {
      const who = address?.toLowerCase();
      return requests.filter(
        (r, i) => (via === undefined || r.via === via) && (who === undefined || recordedAddress[i] === who),
      ).length;
    },
    async close() {
      for (const server of [wkd, vks]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}
