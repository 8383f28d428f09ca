import type { Signature } from './pgp.ts';

/**
 * What the reader is told about who sent a message. A good signature proves whose key signed, nothing
 * about the `From` header the signer wrote: a practitioner's mail client can put any name and address
 * there. So "verified" is shown only when the address in `From` belongs to the signing key (one of its
 * User IDs); otherwise the reader sees whose key signed and that the `From` shown is not confirmed.
 */
export type Verdict =
  | { state: 'verified'; signer: string; fingerprint: string }
  | { state: 'mismatch'; signer: string; fingerprint: string; from: string }
  | { state: 'unsigned' }
  | { state: 'unknown'; keyId: string }
  | { state: 'invalid' };

/** `from`: the address of the message's From header (or the server's sender address when it has none). */
export function verdict(signature: Signature, from: string): Verdict {
  if (signature.state !== 'verified') return signature;
  const signer = signature.userId || signature.emails[0] || signature.fingerprint;
  const fingerprint = groupFingerprint(signature.fingerprint);
  if (signature.emails.includes(from.trim().toLowerCase())) return { state: 'verified', signer, fingerprint };
  return { state: 'mismatch', signer, fingerprint, from };
}

/** `ABCD EF01 …`: groups of four, as gpg shows it, to compare by eye or read out on the phone. */
export function groupFingerprint(hex: string): string {
  return (hex.toUpperCase().match(/.{1,4}/g) ?? []).join(' ');
}
