export {
  KeyStore,
  KeyImportError,
  type RecipientKeyStatus,
  type SenderKey,
  type ImportResult,
  type KeyListing,
} from './store.ts';
export { MimeError, splitMessage, getValue, type SplitMessage, type HeaderField } from './mime.ts';
export { buildPgpMime, plainCopy, prepare, OBSCURED_SUBJECT, type PreparedMessage } from './pgpmime.ts';
export { checkKey, type KeyCheck, type KeyProblem, type EncryptionKey, type SigningKey } from './pgp.ts';
