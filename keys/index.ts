export {
  KeyStore,
  KeyImportError,
  KeyChangeError,
  RecipientKeyActionError,
  SenderKeyError,
  SOURCE_RANK,
  DISCOVERED_SOURCES,
  type KeyChange,
  type KeyChangePolicy,
  type RecordOutcome,
  type RecipientKeyStatus,
  type SenderKey,
  type ImportResult,
  type KeyListing,
  type SenderKeyRow,
} from './store/index.ts';
export { newSenderKey, type SenderKeyActionDeps } from './sender-key-actions.ts';
export { MimeError, splitMessage, getValue, type SplitMessage, type HeaderField } from './mime/mime.ts';
export { readAtEdge, toCrlf, type EdgeProblem, type EdgeReading } from './mime/edge.ts';
export { authorProblem, parseMailbox, type AuthorProblem, type Mailbox } from './mime/author.ts';
export {
  buildPgpMime,
  buildPickupCiphertext,
  decryptReply,
  type OpenedReply,
  plainCopy,
  prepare,
  wrapEncrypted,
  OBSCURED_SUBJECT,
  type PreparedMessage,
} from './mime/pgpmime.ts';
export { createCryptoPool, defaultCryptoThreads, inThreadCrypto, type CryptoPool } from './crypto-pool.ts';
export { inThreadSignEncrypt, pooledSignEncrypt, type SignEncrypt } from './sign-encrypt.ts';
export { pooledOpenInbound, type OpenInbound } from './open-inbound.ts';
export {
  ContactStore,
  newContactRecord,
  type Contact,
  type NewContact,
  type StalePickup,
} from './contacts.ts';
export {
  authHash,
  plausibleBrowserSecret,
  formatAccessCode,
  normaliseAccessCode,
  CODE_KDF,
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
} from './openpgp/index.ts';
export {
  evaluate,
  matchRule,
  ruleSpecificity,
  type PolicyFacts,
  type Verdict,
  type VerdictKind,
  type KeyFact,
} from './policy/evaluate.ts';
export {
  RecipientKeys,
  decideRecipient,
  type Discoverer,
  type DiscoveryNote,
  type LookupResult,
  type RecipientDecision,
  type RefreshResult,
  type Resolution,
} from './policy/recipient-keys.ts';
export {
  explain,
  formatExplanation,
  ExplainInputError,
  type Explanation,
  type ExplainDeps,
  type RecipientExplanation,
} from './policy/explain.ts';
export { replyForPractice } from './verdict-line/reply-inner.ts';
export { consoleCodeRow, ensureConsoleKey, sentSubjectRow, subjectOf } from './console-codes.ts';
export { openConsoleReply, type ConsoleReplyVerdict, type OpenedConsoleReply } from './console-replies.ts';
export { consoleLockId } from './crypto-tasks.ts';
export {
  changeOwnPassword,
  resetPassword,
  type PasswordChange,
  type RelockedKey,
} from './console-password.ts';
export {
  enrolContact,
  enrolContactWithPassphrase,
  eraseContact,
  issueNewCode,
  unlockContact,
  type ContactActionDeps,
  type EnrolResult,
  type EnrolOwnResult,
  type NewCodeResult,
  type OwnSecret,
} from './contact-actions.ts';
export {
  consoleUrl,
  dkimSignMail,
  encodeText,
  encodeWord,
  notificationMail,
  notifyFrom,
  receiptMail,
  type Language,
} from './notices/index.ts';
export { ALL_SEALED_COLUMNS, rotateMasterKey } from './master-key-rotation.ts';
export { beginTotp, checkTotp, confirmTotp, enrolTotpNow, type TotpDeps } from './totp.ts';
export {
  addSenderAddress,
  addUser,
  passwordLink,
  removeSenderAddress,
  resetUserPassword,
  resetUserTotp,
  setUserAdmin,
  setUserDisabled,
  usePasswordLink,
  UserActionError,
  type UserAdminDeps,
} from './user-admin.ts';
