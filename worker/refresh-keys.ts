import type { CoreDeps } from '../core/deps.ts';
import { KeyStore, RecipientKeys, type Discoverer, type RefreshResult } from '../keys/index.ts';

/**
 * The key-lifecycle job (DESIGN.md "Keys"; docs/discovery.md "Lifecycle"): a repeatable maintenance job,
 * every `discovery.refreshEveryHours`, that looks every discovered key up again at its source and drops
 * the ones that became unusable. The work itself is RecipientKeys.refreshAll (keys/); this is the shell.
 */
export async function refreshKeys(
  deps: CoreDeps,
  keys: KeyStore,
  discovery: Discoverer | undefined,
): Promise<RefreshResult> {
  const recipients = new RecipientKeys({ keys, discovery, log: deps.log, clock: deps.clock });
  return recipients.refreshAll();
}
