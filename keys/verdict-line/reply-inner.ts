import { makeField, splitMessage } from '../mime/mime.ts';
import { parseEntity } from '../mime/mime-tree.ts';
import type { SignatureVerdict } from '../openpgp/index.ts';
import { assembleDecrypted, checkLookAlikes, mimeFields } from './decrypted.ts';
import { withNotice } from './notice.ts';
import { noticeLine, securityField, type InboundOutcome, type Language } from './verdict.ts';

/**
 * A decrypted pickup reply as it is handed to the practice: exactly as an encrypted reply from a colleague
 * through the inbound listener — the same `Sealpost-Security` field (`decrypted; signature=valid;
 * signer=<contact>; key=<fingerprint>` when the contact's registered key signed it) and the same visible
 * line on top of its text. The contact wrote every byte of it in the browser, so nothing in it may speak
 * for someone else: the author is the contact (`From: <contact>`; an inner From, Sender or Reply-To is
 * dropped, and so is a Sealpost-Security field), and a look-alike of Sealpost's visible line is marked as
 * not from Sealpost. Throws MimeError when the entity cannot be read through (the caller then delivers it
 * still encrypted).
 */
const REPLACED = new Set(['from', 'sender', 'reply-to']);
const CRLF = Buffer.from('\r\n');

export function replyForPractice(input: {
  inner: Buffer;
  contactAddress: string;
  signature: SignatureVerdict;
  language: Language;
}): { message: Buffer; outcome: InboundOutcome } {
  const checked = checkLookAlikes(parseEntity(input.inner), input.language);
  const outcome: InboundOutcome = {
    kind: 'decrypted',
    signature: input.signature,
    from: input.contactAddress,
    ...(checked.lookAlike ? { lookAlike: checked.lookAlike } : {}),
  };
  const marked = withNotice(checked.entity, noticeLine(outcome, input.language));
  const from = splitMessage(Buffer.concat([makeField('From', `<${input.contactAddress}>`), CRLF])).fields;
  const outer = splitMessage(input.inner).fields.filter((f) => !REPLACED.has(f.lower));
  const parts = assembleDecrypted({
    outer: [...from, ...outer],
    protectedFields: [],
    security: securityField(outcome),
    entityFields: mimeFields(marked, checked.entity),
    body: marked.body,
  });
  return { message: Buffer.concat(parts), outcome };
}
