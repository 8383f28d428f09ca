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

export async function dkimSignMail(
  config: Pick<Config, 'dkim'>,
  bytes: Buffer,
  fromAddress: string,
  // The signature's t=, read once here. Left to mailauth, the clock is read twice — for the header that is
  // hashed, and again (Math.round) for the header that is written, after the RSA signing — and when a
  // half-second passed in between, the written t= was not the signed one: "bad signature" at the receiver,
  // at random, more often on a busy machine. The wall clock, not the pipeline's: a receiver may refuse a t=
  // ahead of its own clock.
  signedAt: Date = new Date(),
): Promise<Buffer> {
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
  const result = await dkimSign(bytes, { ...signature, signatureData: [signature], signTime: signedAt });
  if (result.errors.length > 0 || !result.signatures) throw new Error('DKIM signing failed');
  return Buffer.concat([Buffer.from(result.signatures, 'latin1'), bytes]);
}
