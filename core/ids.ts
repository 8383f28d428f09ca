import { randomUUID } from 'node:crypto';

export function newId(): string {
  return randomUUID();
}

/** A Message-ID for mail that Sealpost itself writes (DSNs, and copies without one). */
export function newMessageId(hostname: string): string {
  return `<${randomUUID()}@${hostname}>`;
}

/** Lower-case and trim an address; the local part is compared case-insensitively throughout Sealpost. */
export function normaliseAddress(address: string): string {
  return address.trim().toLowerCase();
}

export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}

/** A plausible addr-spec: local@domain with no spaces or angle brackets. */
export function isAddress(address: string): boolean {
  return /^[^\s@<>()",;:\\[\]]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/i.test(
    address,
  );
}
