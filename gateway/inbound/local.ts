import { domainOf } from '../../core/ids.ts';
import type { InboundContext } from './inbound-context.ts';

/**
 * Which From addresses are the practice's own, for the purposes of trust: an address of a local domain —
 * configured (`inbound.localDomains`), a domain of the senders' addresses, or of an address with a sender
 * key — or any address with a sender key. Such an address's key is its sender key, nothing else (DESIGN.md
 * invariant 7): no key is learned for it from mail, and its signature verifies only with its sender key.
 * Broader than the RCPT check on purpose: when in doubt, an address counts as local.
 */
export async function isLocalAddress(ctx: InboundContext, address: string): Promise<boolean> {
  const { config, db, keys } = ctx.deps;
  if (await keys.hasSenderKey(address)) return true;
  const domain = domainOf(address);
  if (config.inbound.localDomains?.includes(domain)) return true;
  // `address` passed isAddress: its domain holds no LIKE wildcard; addresses are stored lower-case.
  if (/[%_\\]/.test(domain)) return true;
  return (await db.stores.users.hasAddressInDomain(domain)) || (await keys.hasSenderKeyInDomain(domain));
}
