/**
 * A `Date:` header field value (RFC 5322 §3.3): `Wed, 02 Dec 2026 10:00:00 +0000`. Always UTC; the
 * numeric zone, not the obsolete `GMT` that Date#toUTCString writes.
 */
export function rfc5322Date(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}
