import type { CryptoPool } from '../../keys/index.ts';
import type { PickupApiDeps } from '../api/deps.ts';

/** What the console API is built from: the webmail's deps and, where the process has one, the crypto pool. */
export interface ConsoleApiDeps extends PickupApiDeps {
  /** Makes a console key at a first sign-in (keys/crypto-tasks.ts); default: in this thread. */
  readonly crypto?: CryptoPool;
  /**
   * "Retry now" of the queue screen: promote the rows' sleeping delivery jobs (core/queue-client.ts
   * retryDeliveries); default: `enqueue` (adds a job where none exists).
   */
  readonly retryNow?: (outboundIds: string[]) => Promise<void>;
}
