import { MimeError, makeField, withCrlf, type HeaderField } from '../mime/mime.ts';
import { parseEntity, type MimeEntity } from '../mime/mime-tree.ts';
import { neutralise, serialise } from './look-alike-mime.ts';
import type { Marked } from './notice.ts';
import type { Language, LookAlike } from './verdict.ts';

/**
 * Putting a decrypted message together for the practice, shared by the inbound listener
 * (gateway/inbound/message.ts) and pickup replies (worker/reply.ts through reply-inner.ts): look-alikes of
 * our visible line marked, Sealpost's security field first, the entity's own MIME fields and body.
 */
const CRLF = Buffer.from('\r\n');
const CONTENT = /^content-/;
const SECURITY_LOWER = 'sealpost-security';

/**
 * The message handed to the practice: the outer routing fields, the protected fields in place of their
 * outer (obscured) values, Sealpost's own security field first, and the decrypted entity's MIME fields and
 * body. Outer Content-* fields and any incoming Sealpost-Security field are dropped.
 */
export function assembleDecrypted(input: {
  outer: readonly HeaderField[];
  protectedFields: readonly HeaderField[];
  security: Buffer;
  entityFields: readonly Buffer[];
  body: readonly Buffer[];
}): Buffer[] {
  const replaced = new Set(input.protectedFields.map((f) => f.lower));
  // With protected headers, an outer Reply-To that the sender did not protect is someone else's: a replayed
  // ciphertext under a new outer header must not steer Anna's answer elsewhere.
  if (input.protectedFields.length > 0) replaced.add('reply-to');
  const outer = input.outer.filter(
    (f) =>
      !CONTENT.test(f.lower) &&
      f.lower !== 'mime-version' &&
      f.lower !== SECURITY_LOWER &&
      !replaced.has(f.lower),
  );
  const head = [
    input.security,
    ...outer.map((f) => withCrlf(f.raw)),
    ...input.protectedFields.map((f) => withCrlf(f.raw)),
    makeField('MIME-Version', '1.0'),
    ...input.entityFields,
  ];
  return [Buffer.concat([...head, CRLF]), ...input.body];
}

/** The MIME fields of a decrypted entity (its Content-* fields; a protected Subject is not one of them). */
export function contentFields(entity: MimeEntity): Buffer[] {
  return entity.fields.filter((f) => CONTENT.test(f.lower)).map((f) => withCrlf(f.raw));
}

/** Mark look-alikes in an entity; 'unchecked' when a part inside cannot be read. */
export function checkLookAlikes(
  entity: MimeEntity,
  lang: Language,
): { entity: MimeEntity; lookAlike?: LookAlike } {
  try {
    const done = neutralise(entity, lang);
    if (done.marked) return { entity: parseEntity(serialise(done.marked)), lookAlike: 'marked' };
    return done.found > 0 ? { entity, lookAlike: 'marked' } : { entity };
  } catch (err) {
    if (err instanceof MimeError) return { entity, lookAlike: 'unchecked' };
    throw err;
  }
}

/** The MIME fields of the entity with our line in it (its own Content-* fields when the line changed none). */
export function mimeFields(marked: Marked, entity: MimeEntity): Buffer[] {
  const fields = marked.fields.filter((f) => /^content-/.test(f.lower)).map((f) => withCrlf(f.raw));
  return fields.length > 0 ? fields : contentFields(entity);
}
