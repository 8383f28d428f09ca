import { generateKeyPairSync } from 'node:crypto';
import { dkimSign, type DKIMSignOptions } from 'mailauth';
import type { DnsResolver } from '../../gateway/inbound/index.ts';

/**
 * DKIM for tests: a signing domain with an RSA key made here, messages signed with mailauth (the same
 * library that verifies them, but the signature is checked against the key in "DNS"), and a resolver
 * that serves the `<selector>._domainkey.<domain>` TXT records of the domains a test names — nothing
 * else, and never the internet.
 */
export interface DkimDomain {
  domain: string;
  selector: string;
  privateKey: string;
  /** The TXT record: `v=DKIM1; k=rsa; p=<SubjectPublicKeyInfo, base64>`. */
  txt: string;
}

export function dkimDomain(domain: string, selector = 'sel1'): DkimDomain {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  return {
    domain,
    selector,
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    txt: `v=DKIM1; k=rsa; p=${spki}`,
  };
}

/** A resolver that knows exactly these domains' DKIM keys; any other name does not exist (ENOTFOUND). */
export function dkimResolver(domains: readonly DkimDomain[]): DnsResolver {
  return async (name, rrtype) => {
    const found = domains.find((d) => `${d.selector}._domainkey.${d.domain}` === name.toLowerCase());
    if (found && rrtype === 'TXT') return [[found.txt]];
    throw Object.assign(new Error(`no such name: ${name}`), { code: 'ENOTFOUND' });
  };
}

/** The message with a DKIM-Signature field of `d` on top (relaxed/relaxed, rsa-sha256, From signed). */
export async function dkimSigned(
  raw: string | Buffer,
  d: DkimDomain,
  options: { headerList?: string[]; maxBodyLength?: number } = {},
): Promise<Buffer> {
  const message = Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8');
  const signature: DKIMSignOptions = {
    signingDomain: d.domain,
    selector: d.selector,
    privateKey: d.privateKey,
    algorithm: 'rsa-sha256',
    canonicalization: 'relaxed/relaxed',
    ...(options.maxBodyLength !== undefined ? { maxBodyLength: options.maxBodyLength } : {}),
  };
  // mailauth reads the signed field names as one colon-separated string (its typings say string[]).
  const headerList = options.headerList?.join(':') as unknown as string[] | undefined;
  const result = await dkimSign(message, {
    ...signature,
    signatureData: [signature],
    // t= read once: without it mailauth reads the clock for the hashed and again for the written header,
    // and they differ when a half-second passes in between (a "bad signature" at random).
    signTime: new Date(),
    ...(headerList ? { headerList } : {}),
  });
  if (result.errors.length > 0) throw result.errors[0]!;
  return Buffer.concat([Buffer.from(result.signatures, 'latin1'), message]);
}
