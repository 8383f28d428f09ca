import { readFile } from 'node:fs/promises';
import { dkimSign } from 'mailauth';
import type { Config } from '../../core/config.ts';

/**
 * DKIM for the mails Sealpost writes itself (notifications, receipts), so they pass DMARC at the client's
 * provider: signed with mailauth (never by hand) with the key of `config.dkim` (docs/configuration.md),
 * d= its domain or the domain of the mail's From. Without `config.dkim` the bytes are returned as they are.
 * A configured key that cannot be read or used throws: the caller answers 451 and stores nothing.
 */
const keys = new Map<string, Promise<string>>();

export async function dkimSignMail(config: Config, bytes: Buffer, fromAddress: string): Promise<Buffer> {
  const dkim = config.dkim;
  if (!dkim) return bytes;
  let key = keys.get(dkim.keyFile);
  if (!key) {
    key = readFile(dkim.keyFile, 'utf8');
    key.catch(() => keys.delete(dkim.keyFile)); // a file fixed later is read again
    keys.set(dkim.keyFile, key);
  }
  const privateKey = await key;
  const signingDomain = dkim.domain ?? fromAddress.slice(fromAddress.lastIndexOf('@') + 1).toLowerCase();
  const signature = {
    signingDomain,
    selector: dkim.selector,
    privateKey,
    canonicalization: 'relaxed/relaxed',
  };
  const result = await dkimSign(bytes, { ...signature, signatureData: [signature] });
  if (result.errors.length > 0 || !result.signatures) throw new Error('DKIM signing failed');
  return Buffer.concat([Buffer.from(result.signatures, 'latin1'), bytes]);
}
