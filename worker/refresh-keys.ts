import type { CoreDeps } from '../core/deps.ts';
import { effectiveSettings } from '../core/settings.ts';
import { KeyStore, RecipientKeys, type Discoverer, type RefreshResult } from '../keys/index.ts';

/**
 * The key-lifecycle job (DESIGN.md "Keys"; docs/discovery.md "Lifecycle"): a repeatable maintenance job,
 * every 15 minutes, that looks each discovered key not refreshed for `discovery.refreshEveryHours` up
 * again at its source and drops the ones that became unusable (so the load spreads over the day, and a
 * restart neither skips nor repeats a refresh). The work itself is RecipientKeys.refreshAll (keys/); this is the shell.
 */
export async function refreshKeys(
  deps: CoreDeps,
  keys: KeyStore,
  discovery: Discoverer | undefined,
): Promise<RefreshResult> {
  const recipients = new RecipientKeys({
    keys,
    discovery,
    // Discovery switched off in the console: no lookup; stored keys are still checked and dropped.
    enabled: async () => (await effectiveSettings(deps)).discovery,
    log: deps.log,
    clock: deps.clock,
  });
  return recipients.refreshAll({ olderThanMs: deps.config.discovery.refreshEveryHours * 3600_000 });
}
