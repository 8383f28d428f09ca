import type { CoreDeps } from '../../core/deps.ts';
import type { LimitStore } from '../../core/limit-store.ts';
import type { Explanation, KeyStore } from '../../keys/index.ts';

/** What the webmail API is built from; `enqueue` schedules delivery of committed outbound rows (replies). */
export interface PickupApiDeps extends CoreDeps {
  readonly keys: KeyStore;
  readonly enqueue: (outboundIds: string[]) => Promise<void>;
  /** Where wrong pickup codes and failed admin logins count (Redis; one per process, shared with the gateway). */
  readonly limitStore: LimitStore;
  /**
   * keys/policy/explain.ts bound to the process's key discovery (the composition root wires it, so that the
   * gateway and the admin API share one discoverer); absent, GET /api/admin/explain answers 503.
   */
  readonly explain?: (input: { from: string; to: string[] }) => Promise<Explanation>;
}
