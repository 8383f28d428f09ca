export {
  KeyStore,
  KeyImportError,
  KeyChangeError,
  SOURCE_RANK,
  DISCOVERED_SOURCES,
  type KeyChange,
  type KeyChangePolicy,
  type RecordOutcome,
  type RecipientKeyStatus,
  type SenderKey,
  type ImportResult,
  type KeyListing,
} from './store.ts';
export { MimeError, splitMessage, getValue, type SplitMessage, type HeaderField } from './mime.ts';
export { readAtEdge, toCrlf, type EdgeProblem, type EdgeReading } from './edge.ts';
export { authorProblem, parseMailbox, type AuthorProblem, type Mailbox } from './author.ts';
export {
  buildPgpMime,
  buildPickupCiphertext,
  decryptReply,
  plainCopy,
  prepare,
  wrapEncrypted,
  OBSCURED_SUBJECT,
  type PreparedMessage,
} from './pgpmime.ts';
export { createCryptoPool, defaultCryptoThreads, inThreadCrypto, type CryptoPool } from './crypto-pool.ts';
export {
  ContactStore,
  newContactRecord,
  type Contact,
  type NewContact,
  type StalePickup,
} from './contacts.ts';
export {
  authHash,
  formatAccessCode,
  kdfSchema,
  normaliseAccessCode,
  DEFAULT_KDF,
  type KdfParams,
} from './access-code.ts';
export {
  checkKey,
  encryptedToKeyIds,
  keyIds,
  parseEncryptionKey,
  type KeyCheck,
  type KeyProblem,
  type EncryptionKey,
  type SigningKey,
} from './pgp.ts';
export {
  evaluate,
  matchRule,
  ruleSpecificity,
  type PolicyFacts,
  type Verdict,
  type VerdictKind,
  type KeyFact,
} from './policy.ts';
export {
  RecipientKeys,
  decideRecipient,
  type Discoverer,
  type DiscoveryNote,
  type LookupResult,
  type RecipientDecision,
  type RefreshResult,
  type Resolution,
} from './recipient-keys.ts';
export {
  explain,
  formatExplanation,
  ExplainInputError,
  type Explanation,
  type ExplainDeps,
  type RecipientExplanation,
} from './explain.ts';
export { replyForPractice } from './reply-inner.ts';
