import { decodeWords } from './edge.ts';
import { fieldValue, type HeaderField } from './mime.ts';

/**
 * Who a message says it is from (DESIGN.md invariant 8 applied to `From:` and `Sender:`). Readers disagree
 * about anything but the plainest mailbox — a comment, a group, two addresses, an `@` in an unquoted
 * display name, an address in angle brackets inside a quoted name — so Sealpost reads exactly one shape,
 * the one mail programs write:
 *
 *     addr@domain          Name <addr@domain>          "Name, with specials" <addr@domain>
 *
 * (the name may hold encoded words and UTF-8). Anything else is not a mailbox to Sealpost: the gateway
 * refuses it in `From:`, the inbound path verifies no signature against it.
 */
export interface Mailbox {
  /** Lower-cased addr-spec. */
  address: string;
  /** The display name as a reader shows it: quoted strings unquoted, encoded words decoded. */
  name: string;
}

export type MailboxProblem = 'empty' | 'comment' | 'group' | 'multiple' | 'unparsable';

export type MailboxReading = { ok: true; mailbox: Mailbox } | { ok: false; problem: MailboxProblem };

const ATEXT = "A-Za-z0-9!#$%&'*+/=?^_`{|}~-";
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?';
const ADDR_SPEC = new RegExp(`^[${ATEXT}]+(?:\\.[${ATEXT}]+)*@${LABEL}(?:\\.${LABEL})+$`);
/** Stands for a quoted string in the structure (a NUL never reaches here: the edge refuses it). */
const QUOTED = '\u0000';

/** Read one mailbox from a header value (unfolded). */
export function parseMailbox(value: string): MailboxReading {
  const scanned = scan(value);
  if (!scanned) return { ok: false, problem: 'unparsable' };
  const outside = scanned.outside.trim();
  if (outside === '') return { ok: false, problem: 'empty' };
  if (/[()]/.test(outside)) return { ok: false, problem: 'comment' };
  if (/[:;]/.test(outside)) return { ok: false, problem: 'group' };
  if (outside.includes(',')) return { ok: false, problem: 'multiple' };
  const angle = /^([^<>]*)<([^<>]*)>$/.exec(outside);
  const phrase = angle ? angle[1]!.trim() : '';
  const address = (angle ? angle[2]! : outside).trim();
  if (!ADDR_SPEC.test(address) || /[@[\]\\<>"]/.test(phrase.replaceAll(QUOTED, ''))) {
    return { ok: false, problem: 'unparsable' };
  }
  // Quoted strings can only be in the phrase (the address admits none), so they come back in order.
  const pieces = phrase.split(QUOTED);
  const name = decodeWords(
    pieces.map((p, i) => (i === 0 ? p : `${scanned.quoted[i - 1] ?? ''}${p}`)).join(''),
  );
  return { ok: true, mailbox: { address: address.toLowerCase(), name } };
}

/** The value with every quoted string replaced by QUOTED, and the quoted strings' contents unescaped. */
function scan(value: string): { outside: string; quoted: string[] } | undefined {
  let outside = '';
  const quoted: string[] = [];
  for (let i = 0; i < value.length; i++) {
    if (value[i] !== '"') {
      outside += value[i];
      continue;
    }
    let text = '';
    for (i++; i < value.length && value[i] !== '"'; i++)
      text += value[i] === '\\' ? (value[++i] ?? '') : value[i];
    if (i >= value.length) return undefined; // an unclosed quote
    quoted.push(text);
    outside += QUOTED;
  }
  return { outside, quoted };
}

/**
 * Addresses written into a display name (`"direktion@bank.example" <anna@…>`, also in encoded words,
 * full-width `＠` or with invisible characters between) that are not among `allowed`.
 */
export function foreignAddressesInName(name: string, allowed: ReadonlySet<string>): string[] {
  const text = name
    .normalize('NFKC')
    .replace(/\p{Cf}/gu, '')
    .toLowerCase();
  const found = text.match(/[^\s<>"'(),;:[\]]+@[^\s<>"'(),;:[\]]+\.[^\s<>"'(),;:[\]]+/g) ?? [];
  return found.filter((a) => !allowed.has(a));
}

export type AuthorProblem =
  | 'multiple-from'
  | `from-${MailboxProblem}`
  | 'from-not-allowed'
  | 'from-display-name'
  | 'multiple-sender'
  | `sender-${MailboxProblem}`
  | 'sender-not-allowed'
  | 'sender-display-name';

/**
 * The author fields against the addresses the sender may use: `From:` (one mailbox) and `Sender:` (when
 * present) must each be one of `allowed`, and neither display name may show another address. A message
 * without `From:` is fine here (`missing`): the gateway adds one from the envelope.
 */
export function authorProblem(
  fields: readonly HeaderField[],
  allowed: ReadonlySet<string>,
): { ok: true; missing: boolean } | { ok: false; problem: AuthorProblem } {
  for (const kind of ['from', 'sender'] as const) {
    const found = fields.filter((f) => f.lower === kind);
    if (found.length === 0) continue;
    if (found.length > 1) return { ok: false, problem: `multiple-${kind}` };
    const reading = parseMailbox(fieldValue(found[0]!));
    if (!reading.ok) return { ok: false, problem: `${kind}-${reading.problem}` };
    if (!allowed.has(reading.mailbox.address)) return { ok: false, problem: `${kind}-not-allowed` };
    if (foreignAddressesInName(reading.mailbox.name, allowed).length > 0)
      return { ok: false, problem: `${kind}-display-name` };
  }
  return { ok: true, missing: !fields.some((f) => f.lower === 'from') };
}
