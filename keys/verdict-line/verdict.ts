import { makeField } from '../mime/mime.ts';
import type { NoticeLanguage } from './look-alike.ts';
import type { InboundProblem, SignatureVerdict } from '../openpgp/index.ts';

/**
 * What Sealpost says about an inbound message: the `Sealpost-Security` header (machine-readable, always
 * set, documented in docs/inbound.md) and, for a decrypted message or one whose text imitates that line,
 * a visible line at the top of its text (German or English). Both are computed here, from our own checks
 * only.
 */
export type InboundOutcome = (
  | { kind: 'decrypted'; signature: SignatureVerdict; from: string | undefined }
  | { kind: 'not-decrypted'; reason: InboundProblem | 'partly-encrypted' }
  | { kind: 'not-encrypted' }
) & {
  /**
   * The text holds something that looks like our visible line: 'marked' in place as not from Sealpost,
   * or 'unchecked' (a malformed MIME structure that could not be read through; our line goes first).
   */
  lookAlike?: LookAlike;
};

export type LookAlike = 'marked' | 'unchecked';

export type Language = NoticeLanguage;

export function securityField(outcome: InboundOutcome): Buffer {
  return makeField('Sealpost-Security', securityValue(outcome));
}

export function securityValue(outcome: InboundOutcome): string {
  const value = verdictValue(outcome);
  return outcome.lookAlike ? `${value}; look-alike=${outcome.lookAlike}` : value;
}

function verdictValue(outcome: InboundOutcome): string {
  if (outcome.kind === 'not-encrypted') return 'not-encrypted';
  if (outcome.kind === 'not-decrypted') return `not-decrypted; reason=${outcome.reason}`;
  const sig = outcome.signature;
  switch (sig.state) {
    case 'valid':
      return `decrypted; signature=valid; signer=${outcome.from ?? 'unknown'}; key=${sig.fingerprint}`;
    case 'invalid':
      return `decrypted; signature=invalid; key-id=${sig.keyId}`;
    case 'unknown-key':
      return `decrypted; signature=unknown-key; key-id=${sig.keyId}`;
    case 'none':
      return 'decrypted; signature=none';
  }
}

/** Fingerprint in groups of four, as mail programs and `gpg --fingerprint` show it (for comparing by phone). */
function grouped(fingerprint: string): string {
  return fingerprint.replace(/(.{4})(?=.)/g, '$1 ');
}

const TEXT = {
  de: {
    head: '[Sealpost] Verschlüsselt empfangen.',
    valid: (from: string, fpr: string) => `Signiert von ${from} (Schlüssel ${fpr}, Signatur geprüft).`,
    invalid: (from: string) =>
      `ACHTUNG: Die Signatur ist ungültig - die Nachricht wurde verändert oder stammt nicht von ${from}.`,
    unknown: (keyId: string) =>
      `Signiert mit einem unbekannten Schlüssel (${keyId}) - der Absender ist nicht bestätigt.`,
    none: 'Nicht signiert - der Absender ist nicht bestätigt.',
    nobody: 'dem angegebenen Absender',
    notEncrypted: '[Sealpost] Unverschlüsselt empfangen - der Absender ist nicht bestätigt.',
    notDecrypted: '[Sealpost] Nicht entschlüsselt - der Absender ist nicht bestätigt.',
    marked: 'ACHTUNG: Jeder weitere Vermerk dieser Art im Text ist nicht echt.',
    unchecked:
      'ACHTUNG: Die Nachricht ist fehlerhaft aufgebaut; jeder weitere Vermerk dieser Art ist nicht echt.',
  },
  en: {
    head: '[Sealpost] Received encrypted.',
    valid: (from: string, fpr: string) => `Signed by ${from} (key ${fpr}, signature verified).`,
    invalid: (from: string) =>
      `WARNING: the signature is invalid - the message was altered or is not from ${from}.`,
    unknown: (keyId: string) => `Signed with an unknown key (${keyId}) - the sender is not confirmed.`,
    none: 'Not signed - the sender is not confirmed.',
    nobody: 'the stated sender',
    notEncrypted: '[Sealpost] Received unencrypted - the sender is not confirmed.',
    notDecrypted: '[Sealpost] Not decrypted - the sender is not confirmed.',
    marked: 'WARNING: any other notice like this one in the text is not genuine.',
    unchecked: 'WARNING: the message is malformed; any other notice like this one in it is not genuine.',
  },
} as const;

/**
 * The visible line: always for a decrypted message; for any other only when its text holds a look-alike
 * (then ours comes first and says so; a message without one is passed on unchanged).
 */
export function noticeLine(outcome: InboundOutcome, language: Language): string {
  const t = TEXT[language];
  const line = verdictLine(outcome, t);
  return outcome.lookAlike ? `${line} ${t[outcome.lookAlike]}` : line;
}

function verdictLine(outcome: InboundOutcome, t: (typeof TEXT)[Language]): string {
  if (outcome.kind === 'not-encrypted') return t.notEncrypted;
  if (outcome.kind === 'not-decrypted') return t.notDecrypted;
  const signature = outcome.signature;
  const who = outcome.from ?? t.nobody;
  switch (signature.state) {
    case 'valid':
      return `${t.head} ${t.valid(who, grouped(signature.fingerprint))}`;
    case 'invalid':
      return `${t.head} ${t.invalid(who)}`;
    case 'unknown-key':
      return `${t.head} ${t.unknown(signature.keyId)}`;
    case 'none':
      return `${t.head} ${t.none}`;
  }
}
