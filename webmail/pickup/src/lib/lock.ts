/**
 * The locked private key (docs/pickup.md): AES-256-GCM with lockKey, a random 12-byte IV, associated data
 * `sealpost-pickup-key:<contactId>`, laid out iv ‖ ciphertext ‖ tag (WebCrypto appends the tag).
 * A wrong key, a wrong contact id or a changed byte fails the tag check: unlock throws, nothing is returned.
 */
const IV_BYTES = 12;

function aad(contactId: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`sealpost-pickup-key:${contactId}`);
}

async function aesKey(lockKey: Uint8Array, usage: 'encrypt' | 'decrypt') {
  if (lockKey.length !== 32) throw new Error('lockKey must be 32 bytes');
  return crypto.subtle.importKey('raw', new Uint8Array(lockKey), { name: 'AES-GCM' }, false, [usage]);
}

export async function unlockPrivateKey(
  locked: Uint8Array,
  lockKey: Uint8Array,
  contactId: string,
): Promise<Uint8Array> {
  if (locked.length <= IV_BYTES + 16) throw new Error('locked key too short');
  const key = await aesKey(lockKey, 'decrypt');
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: new Uint8Array(locked.subarray(0, IV_BYTES)), additionalData: aad(contactId) },
    key,
    new Uint8Array(locked.subarray(IV_BYTES)),
  );
  return new Uint8Array(plain);
}

export async function lockPrivateKey(
  privateKey: Uint8Array,
  lockKey: Uint8Array,
  contactId: string,
): Promise<Uint8Array> {
  const key = await aesKey(lockKey, 'encrypt');
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const body = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: aad(contactId) },
    key,
    new Uint8Array(privateKey),
  );
  const out = new Uint8Array(IV_BYTES + body.byteLength);
  out.set(iv, 0);
  out.set(new Uint8Array(body), IV_BYTES);
  return out;
}
