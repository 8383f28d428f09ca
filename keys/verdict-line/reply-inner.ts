import { makeField, splitMessage, withCrlf } from '../mime/mime.ts';
import { parseEntity } from '../mime/mime-tree.ts';
import { neutralise, serialise } from './look-alike-mime.ts';
import type { NoticeLanguage } from './look-alike.ts';

/**
 * A decrypted pickup reply as it is handed to the practice (`pickup.replyDelivery: decrypt`). The contact
 * wrote every byte of it in the browser, so nothing in it may speak for someone else: the author is the
 * contact whose key signed it (`From: <contact>`; an inner From, Sender or Reply-To is dropped, and so is a
 * Sealpost-Security field), and a look-alike of Sealpost's visible line is marked as not from Sealpost.
 * Throws MimeError when the entity cannot be read through (the caller then delivers it still encrypted).
 */
const REPLACED = new Set(['from', 'sender', 'reply-to', 'sealpost-security']);
const CRLF = Buffer.from('\r\n');

export function replyForPractice(
  inner: Buffer,
  contactAddress: string,
  language: NoticeLanguage,
): { message: Buffer; lookAlike: boolean } {
  const entity = parseEntity(inner);
  const done = neutralise(entity, language);
  const marked = done.marked ? splitMessage(serialise(done.marked)) : splitMessage(inner);
  const fields = marked.fields.filter((f) => !REPLACED.has(f.lower)).map((f) => withCrlf(f.raw));
  return {
    message: Buffer.concat([makeField('From', `<${contactAddress}>`), ...fields, CRLF, marked.body]),
    lookAlike: done.found > 0,
  };
}
