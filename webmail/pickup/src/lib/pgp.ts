import * as openpgp from 'openpgp/lightweight';
import { displayText } from './display.ts';

/**
 * The pickup app's OpenPGP boundary: the only module of the app that imports openpgp.js (loaded after
 * unlock, in its own chunk). Messages are decrypted whole (never streamed): openpgp.js checks the MDC/AEAD
 * before it returns any byte, so a changed ciphertext yields an error and no plaintext at all.
 */
export type PrivateKey = openpgp.PrivateKey;
export type PublicKey = openpgp.PublicKey;

export interface SenderKey {
  address: string;
  displayName: string;
  fingerprint: string;
  key: PublicKey;
  active: boolean;
  /** Read from the key itself, not from the server's list: whose key it is (display.ts applied). */
  identity: SignerIdentity;
}

/** Whose key signed: the key's own User ID and the addresses in its User IDs (lower case). */
export interface SignerIdentity {
  userId: string;
  emails: string[];
  fingerprint: string;
}

export type Signature =
  | ({ state: 'verified' } & SignerIdentity)
  | { state: 'unsigned' }
  | { state: 'unknown'; keyId: string }
  | { state: 'invalid' };

// Per-call configuration, never openpgp.config: unauthenticated (no MDC) messages are refused.
const CONFIG = { allowUnauthenticatedMessages: false, allowUnauthenticatedStream: false } as const;

export async function readContactKey(binary: Uint8Array): Promise<PrivateKey> {
  const key = await openpgp.readPrivateKey({ binaryKey: binary, config: CONFIG });
  if (!key.isDecrypted()) throw new Error('the pickup key must be unencrypted inside its lock');
  return key;
}

export async function readSenderKeys(
  senders: {
    address: string;
    displayName: string;
    fingerprint: string;
    publicKey: string;
    active: boolean;
  }[],
): Promise<SenderKey[]> {
  const out: SenderKey[] = [];
  for (const s of senders) {
    const key = await openpgp.readKey({ armoredKey: s.publicKey, config: CONFIG });
    // The list is the server's; the fingerprint is checked against the key itself.
    if (key.getFingerprint().toUpperCase() !== s.fingerprint.toUpperCase()) continue;
    out.push({ ...s, key, identity: identity(key, s.address) });
  }
  return out;
}

/** The User ID naming the server's address for this key if there is one, else the key's first. */
function identity(key: PublicKey, address: string): SignerIdentity {
  const ids = key.users.flatMap((u) => (u.userID ? [u.userID] : []));
  const main = ids.find((u) => u.email.toLowerCase() === address.toLowerCase()) ?? ids[0];
  const shown = main
    ? main.name && main.email
      ? `${main.name} <${main.email}>`
      : main.email || main.userID
    : '';
  return {
    userId: displayText(shown),
    emails: ids.map((u) => displayText(u.email.toLowerCase())).filter((e) => e !== ''),
    fingerprint: key.getFingerprint().toUpperCase(),
  };
}

/** Decrypt and integrity-check in full, then judge the signature. Throws on any tampering. */
export async function decryptMessage(
  ciphertext: Uint8Array,
  contactKey: PrivateKey,
  senders: readonly SenderKey[],
): Promise<{ data: Uint8Array; signature: Signature }> {
  const message = await openpgp.readMessage({ binaryMessage: ciphertext, config: CONFIG });
  const result = await openpgp.decrypt({
    message,
    decryptionKeys: contactKey,
    verificationKeys: senders.map((s) => s.key),
    expectSigned: false,
    format: 'binary',
    config: CONFIG,
  });
  return { data: result.data, signature: await judge(result.signatures, senders) };
}

async function judge(
  signatures: { keyID: openpgp.KeyID; verified: Promise<true> }[],
  senders: readonly SenderKey[],
): Promise<Signature> {
  if (signatures.length === 0) return { state: 'unsigned' };
  let verified: Signature | undefined;
  for (const sig of signatures) {
    const signer = senders.find((s) => s.key.getKeys(sig.keyID).length > 0);
    try {
      await sig.verified;
    } catch {
      if (!signer) return { state: 'unknown', keyId: sig.keyID.toHex().toUpperCase() };
      return { state: 'invalid' }; // one bad signature spoils the message: no "mostly verified"
    }
    if (signer) verified ??= { state: 'verified', ...signer.identity };
  }
  return verified ?? { state: 'invalid' };
}

/** One of the contact's own stored replies: it must open with their key and carry their own signature. */
export async function decryptOwnReply(armored: Uint8Array, contactKey: PrivateKey): Promise<Uint8Array> {
  const message = await openpgp.readMessage({
    armoredMessage: new TextDecoder().decode(armored),
    config: CONFIG,
  });
  const result = await openpgp.decrypt({
    message,
    decryptionKeys: contactKey,
    verificationKeys: contactKey.toPublic(),
    expectSigned: true,
    format: 'binary',
    config: CONFIG,
  });
  return result.data;
}

/** The reply: signed by the contact key, encrypted to the sender's key and the contact's own, armored. */
export async function encryptReply(mime: Uint8Array, to: PublicKey, contactKey: PrivateKey): Promise<string> {
  return openpgp.encrypt({
    message: await openpgp.createMessage({ binary: mime, format: 'binary' }),
    encryptionKeys: [to, contactKey.toPublic()],
    signingKeys: contactKey,
    format: 'armored',
    config: CONFIG,
  });
}

/** An armored public key pasted by the recipient: readable, public, and its fingerprint. */
export async function inspectPublicKey(armored: string): Promise<{ fingerprint: string; userIds: string[] }> {
  const key = await openpgp.readKey({ armoredKey: armored, config: CONFIG });
  if (key.isPrivate()) throw new Error('private');
  return { fingerprint: key.getFingerprint().toUpperCase(), userIds: key.getUserIDs() };
}
