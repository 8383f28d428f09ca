import { errName } from '../../core/log.ts';
import { autocryptFinding } from './autocrypt-header.ts';
import { readAnyKey, toEncryptionKey, type EncryptionKey } from '../../keys/openpgp/index.ts';
import type { SplitMessage } from '../../keys/mime/mime.ts';
import type { InboundContext } from './inbound-context.ts';
import { dkimProof } from './dkim.ts';

/**
 * Learning a key from an Autocrypt header (DESIGN.md invariant 7). Anyone can write any From and any
 * Autocrypt header into a mail to an MX, so a key is recorded only when the message proves it:
 *   1. the From address is not local (a local address's key is its sender key, nothing else);
 *   2. the message is signed by the offered key (over the PGP/MIME content, checked by the caller);
 *   3. a DKIM signature verifies that is aligned with the From domain (the domain vouches for the author).
 * Then a new address gets the key; an address with a known key or a pickup contact gets a key change held
 * for the admin. Anything else is ignored and logged; the message itself always goes on.
 */
export interface AutocryptOffer {
  address: string;
  binary: Uint8Array;
  fingerprint: string;
  /** The offered key, as a candidate for the message's signatures (it never makes the verdict valid). */
  key: EncryptionKey;
}

/** The key the message offers for its From address, or undefined (ignored and logged). */
export async function autocryptOffer(
  ctx: InboundContext,
  split: SplitMessage,
  from: { address: string; local: boolean } | undefined,
  session: string,
): Promise<AutocryptOffer | undefined> {
  const { log, clock } = ctx.deps;
  try {
    const finding = await autocryptFinding(split.fields, clock.now());
    if (!finding.found || !from || finding.address !== from.address) return undefined;
    if (from.local) {
      log.warn('IN_AUTOCRYPT_LOCAL', { session, from: finding.address });
      return undefined;
    }
    if (!finding.ok) {
      log.info('IN_AUTOCRYPT_IGNORED', { session, from: finding.address, reason: finding.problem });
      return undefined;
    }
    const key = toEncryptionKey(await readAnyKey(finding.binary));
    return { address: finding.address, binary: finding.binary, fingerprint: finding.fingerprint, key };
  } catch (err) {
    log.warn('IN_AUTOCRYPT_FAILED', { session, errName: errName(err) });
    return undefined;
  }
}

/**
 * Record the offered key when the message proves it: `signed` says whether a signature by the offered key
 * verified over the content; DKIM is checked on `raw`, the message as the sending server handed it over.
 */
export async function learnAutocrypt(
  ctx: InboundContext,
  raw: Buffer,
  offer: AutocryptOffer,
  signed: boolean,
  session: string,
): Promise<void> {
  const { log, keys, clock } = ctx.deps;
  const from = offer.address;
  try {
    if (!signed) {
      log.info('IN_AUTOCRYPT_UNPROVEN', {
        session,
        from,
        fingerprint: offer.fingerprint,
        reason: 'not-signed',
      });
      return;
    }
    const proof = await dkimProof(raw, from, { resolver: ctx.resolver, now: clock.now() });
    if (!proof.ok) {
      log.info('IN_AUTOCRYPT_UNPROVEN', {
        session,
        from,
        fingerprint: offer.fingerprint,
        reason: proof.reason,
      });
      return;
    }
    const contact = await ctx.contacts.find(from);
    await keys.recordAutocrypt(
      from,
      offer.binary,
      contact ? { contactFingerprint: contact.fingerprint } : {},
    );
  } catch (err) {
    log.warn('IN_AUTOCRYPT_FAILED', { session, errName: errName(err) });
  }
}
