import type { UserStore } from '../core/users.ts';
import { SenderKeyError, type KeyStore } from './store/index.ts';
import type { KeyActor } from './store/types.ts';

/**
 * Generating and rotating a sender key, as the CLI (`sealpost key generate|rotate`) and the admin console
 * (docs/admin-console.md "Sender keys") both do it: one implementation. A rotation is a new key for an
 * address that has one: the new key signs and is published in the WKD from now on; the earlier one is kept
 * (inactive) so that replies still encrypted to it are read (KeyStore.decryptionKeys).
 */
export interface SenderKeyActionDeps {
  readonly keys: KeyStore;
  readonly users: UserStore;
}

export async function newSenderKey(
  deps: SenderKeyActionDeps,
  input: { address: string; rotate: boolean; name?: string; who?: KeyActor },
): Promise<{ fingerprint: string; previous?: string }> {
  const current = await deps.keys.senderKey(input.address);
  if (input.rotate && !current) throw new SenderKeyError('no-key');
  // The User ID is `Name <address>` (what a client's mail program shows): the given name, else the user's.
  const name = input.name ?? (await deps.users.displayName(input.address));
  const key = await deps.keys.generateSenderKey(input.address, name, {
    ...(input.who ? { who: input.who } : {}),
    action: input.rotate ? 'sender-key.rotated' : 'sender-key.generated',
  });
  return { fingerprint: key.fingerprint, ...(current ? { previous: current.signer.fingerprint } : {}) };
}
