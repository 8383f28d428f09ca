import { passThrough } from './mime.ts';
import { withNotice } from '../../keys/verdict-line/notice.ts';
import { assembleDecrypted, checkLookAlikes, mimeFields } from '../../keys/verdict-line/decrypted.ts';
import { MimeError, withCrlf, type SplitMessage } from '../../keys/mime/mime.ts';
import { parseEntity, type MimeEntity } from '../../keys/mime/mime-tree.ts';
import {
  noticeLine,
  securityField,
  type InboundOutcome,
  type Language,
} from '../../keys/verdict-line/verdict.ts';

const CRLF = Buffer.from('\r\n');

/**
 * The message as it came, but for our security field — unless its text imitates our visible line: then
 * each look-alike is marked in place and our own line goes on top (docs/inbound.md).
 */
export function original(
  split: SplitMessage,
  recipients: string[],
  outcome: InboundOutcome,
  lang: Language,
): { recipients: string[]; message: Buffer; outcome: InboundOutcome } {
  let top: MimeEntity | undefined;
  try {
    top = parseEntity(Buffer.concat([...split.fields.map((f) => withCrlf(f.raw)), CRLF, split.body]));
  } catch (err) {
    if (!(err instanceof MimeError)) throw err;
  }
  const checked = top
    ? checkLookAlikes(top, lang)
    : { entity: opaque(split), lookAlike: 'unchecked' as const };
  if (!checked.lookAlike)
    return { recipients, message: Buffer.concat(passThrough(split, securityField(outcome))), outcome };
  const marked: InboundOutcome = { ...outcome, lookAlike: checked.lookAlike };
  const noticed = withNotice(checked.entity, noticeLine(marked, lang));
  const parts = assembleDecrypted({
    outer: split.fields,
    protectedFields: [],
    security: securityField(marked),
    entityFields: mimeFields(noticed, checked.entity),
    body: noticed.body,
  });
  return { recipients, message: Buffer.concat(parts), outcome: marked };
}

/** A message whose MIME tree cannot be read: one leaf, so that our line is wrapped around it, first. */
function opaque(split: SplitMessage): MimeEntity {
  return {
    fields: split.fields,
    body: split.body,
    type: 'application/octet-stream',
    params: new Map(),
    children: [],
  };
}
