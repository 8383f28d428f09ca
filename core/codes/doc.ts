import { LOG_EVENT_SECTIONS } from './events.ts';
import { ADMIN_HTTP_CODES, CONSOLE_HTTP_CODES, PICKUP_HTTP_CODES, type HttpCodeRow } from './http.ts';
import { SMTP_CODES, type SmtpCodeRow } from './smtp.ts';

/**
 * docs/codes.md, rendered from the registry (unformatted markdown; core/codes/write-doc.ts formats it
 * with prettier and writes it, test/unit/codes.test.ts checks the file is what it writes).
 */
export function renderCodesDoc(): string {
  return [
    '# Codes',
    '',
    '<!-- Generated from core/codes/ by `npm run codes`: edit the registry, not this file. -->',
    '',
    'Every SMTP reply Sealpost gives, every HTTP answer of its APIs and every log line it writes carries a',
    'stable code. Tests assert on codes, never on text. The codes live in one registry, `core/codes/`;',
    'replies and answers are built only from it (`core/errors.ts`, `webmail/api/http.ts`,',
    '`webmail/admin-http.ts`), never at call sites. `test/unit/codes.test.ts` fails when a code used in the',
    'code is missing from the registry or when this file differs from what the registry generates.',
    '',
    ...smtpSection(),
    ...httpSection('HTTP answers of the pickup API', PICKUP_HTTP_CODES, [
      'Answers are `{ "code": "...", "message": "..." }` with the status below (see [pickup.md](pickup.md)).',
    ]),
    ...httpSection('HTTP answers of the admin API', ADMIN_HTTP_CODES, [
      'Answers are `{ "code": "...", "message": "..." }` with the status below (see [admin-api.md](admin-api.md)).',
      'A 401 carries `WWW-Authenticate: Basic realm="Sealpost admin"`. A POST that is not JSON or comes from',
      "another origin is refused with the webmail's `PU_NEEDS_JSON` (415) / `PU_BAD_ORIGIN` (403).",
    ]),
    ...httpSection("HTTP answers of the practitioner's console API", CONSOLE_HTTP_CODES, [
      'Answers are `{ "code": "...", "message": "..." }` with the status below (see [console.md](console.md)).',
    ]),
    ...eventsSection(),
  ].join('\n');
}

function table(header: string[], rows: string[][]): string[] {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line), ''];
}

function smtpSection(): string[] {
  const rows = Object.entries(SMTP_CODES).map(([code, row]: [string, SmtpCodeRow]) => [
    `\`${code}\``,
    String(row.smtp),
    row.enhanced,
    row.note ? `${row.text} ${row.note}` : row.text,
  ]);
  return [
    '## SMTP replies (`core/codes/smtp.ts`)',
    '',
    'A reply reads `<smtp> <enhanced> <text> (<detail>) [<CODE>]`, e.g.',
    '`550 5.7.1 No usable OpenPGP key for this recipient; Sealpost does not send in clear (bob@example.org) [GW_NO_KEY]`.',
    '`GW_*` are the submission gateway, `IN_*` the inbound listener ([inbound.md](inbound.md)), `DLV_*` the',
    'outcomes of a delivery attempt as the worker records them.',
    '',
    ...table(['code', 'SMTP', 'enhanced', 'text'], rows),
  ];
}

function httpSection(title: string, codes: Record<string, HttpCodeRow>, intro: string[]): string[] {
  const rows = Object.entries(codes).map(([code, row]) => [`\`${code}\``, String(row.status), row.meaning]);
  return [
    `## ${title} (\`core/codes/http.ts\`)`,
    '',
    ...intro,
    '',
    ...table(['code', 'status', 'meaning'], rows),
  ];
}

function eventsSection(): string[] {
  const out = [
    '## Log events (`core/codes/events.ts`)',
    '',
    'Log lines are JSON (pino): `level`, `time`, `code`, and only the fields of `LogFields` in `core/log.ts`',
    '(ids, addresses, counts, sizes, durations, numeric SMTP codes, error class names). Never a subject, a body,',
    "an attachment name, an access code, a key or a password; never the text of a remote server's reply.",
    '',
  ];
  for (const section of LOG_EVENT_SECTIONS) {
    out.push(`### ${section.title}`, '');
    if (section.intro) out.push(section.intro, '');
    const rows = section.events.map((e) => [e.codes.map((c) => `\`${c}\``).join(', '), e.level, e.meaning]);
    out.push(...table(['code', 'level', 'meaning'], rows));
  }
  return out;
}
