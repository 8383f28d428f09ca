/**
 * What the app needs only after the code was entered (openpgp.js, the MIME parser, DOMPurify): one lazy
 * chunk, fetched while Argon2id runs, so that the code entry page loads small and fast.
 */
export {
  decryptMessage,
  decryptOwnReply,
  encryptReply,
  inspectPublicKey,
  readContactKey,
  readSenderKeys,
} from './pgp.ts';
export type { PrivateKey, PublicKey, SenderKey, Signature } from './pgp.ts';
export { readMime, type ReadMessage, type ReadAttachment } from './mime-read.ts';
export { sanitiseHtml, type Sanitised } from './sanitize.ts';
