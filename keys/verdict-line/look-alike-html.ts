import { Parser } from 'htmlparser2';
import {
  insertAt,
  insertionPoints,
  LOOK_ALIKE_MARKERS,
  lookAlikes,
  type NoticeLanguage,
} from './look-alike.ts';

/**
 * Look-alikes of the visible line in HTML (keys/verdict-line/look-alike.ts says what a look-alike is): searched in the
 * text a mail program shows — through tags and character references, as htmlparser2 reads it — and marked
 * in place; counted where no marker can go.
 */
/** Elements whose text a mail program does not show as text. */
const HIDDEN_TEXT = new Set(['style', 'script', 'title']);
/** Attributes a mail program shows (as a tooltip, for a blocked image, in a form field). */
const SHOWN_ATTRIBUTES = new Set(['alt', 'title', 'aria-label', 'placeholder', 'value', 'label', 'style']);

/**
 * HTML with every look-alike in its text marked in place (before the character the look-alike starts at,
 * as text: it takes the styling of the look-alike itself). `count` is how many markers were inserted;
 * `hidden` counts look-alikes where no marker can go: in a style sheet (CSS `content:`), in an attribute
 * a mail program shows. Comments are read as HTML too (Outlook renders `<!--[if mso]>` blocks).
 */
export function markHtml(
  html: string,
  language: NoticeLanguage,
): { html: string; count: number; hidden: number } {
  const { points, hidden } = htmlInsertionPoints(html, 0, 0);
  if (points.length === 0) return { html, count: 0, hidden };
  return { html: insertAt(html, points, `${LOOK_ALIKE_MARKERS[language]} `), count: points.length, hidden };
}

/** Comments inside comments do not exist; one level of reading a comment as HTML is all there is. */
const MAX_COMMENT_DEPTH = 1;

function htmlInsertionPoints(
  html: string,
  offset: number,
  depth: number,
): { points: number[]; hidden: number } {
  const texts: string[] = [];
  // Runs of visible text: where each starts in the visible text and in `html`; `verbatim` when the run is
  // the source itself (else it is a decoded entity, all of it mapped to where the reference starts).
  const runs: { visible: number; source: number; verbatim: boolean }[] = [];
  let length = 0;
  const points: number[] = [];
  let hidden = 0;
  let hiddenDepth = 0;
  let lastStart = 0;
  const parser = new Parser(
    {
      onopentagname: (name) => {
        if (HIDDEN_TEXT.has(name)) hiddenDepth++;
      },
      onclosetag: (name) => {
        if (HIDDEN_TEXT.has(name) && hiddenDepth > 0) hiddenDepth--;
      },
      onattribute: (name, value) => {
        if (SHOWN_ATTRIBUTES.has(name.toLowerCase())) hidden += lookAlikes(value).length;
      },
      ontext: (text) => {
        if (hiddenDepth > 0) {
          hidden += lookAlikes(text).length;
          return;
        }
        // The second half of a surrogate pair from an entity comes with an empty range: same reference.
        const start = parser.endIndex >= parser.startIndex ? parser.startIndex : lastStart;
        lastStart = start;
        runs.push({
          visible: length,
          source: start,
          verbatim: html.slice(start, start + text.length) === text,
        });
        texts.push(text);
        length += text.length;
      },
      oncomment: (data) => {
        const at = parser.startIndex + 4; // after "<!--"
        if (depth >= MAX_COMMENT_DEPTH || html.slice(at, at + data.length) !== data) {
          hidden += lookAlikes(data).length;
          return;
        }
        const inner = htmlInsertionPoints(data, offset + at, depth + 1);
        points.push(...inner.points);
        hidden += inner.hidden;
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(html);
  parser.end();
  for (const at of insertionPoints(texts.join(''))) points.push(offset + sourceIndex(runs, at, html.length));
  return { points: [...new Set(points)].sort((a, b) => a - b), hidden };
}

/** The index in the source of visible character `at` (binary search over the runs). */
function sourceIndex(
  runs: readonly { visible: number; source: number; verbatim: boolean }[],
  at: number,
  end: number,
): number {
  let lo = 0;
  let hi = runs.length - 1;
  if (hi < 0) return end;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (runs[mid]!.visible <= at) lo = mid;
    else hi = mid - 1;
  }
  const run = runs[lo]!;
  return run.verbatim ? run.source + (at - run.visible) : run.source;
}
