import type { CoreDeps } from '../../core/deps.ts';
import type { KeyStore } from '../../keys/index.ts';

/** What the webmail API is built from; `enqueue` schedules delivery of committed outbound rows (replies). */
export interface PickupApiDeps extends CoreDeps {
  readonly keys: KeyStore;
  readonly enqueue: (outboundIds: string[]) => Promise<void>;
}
