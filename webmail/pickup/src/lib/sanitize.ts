import DOMPurify from 'dompurify';
import { fromBase64, toBase64 } from './bytes.ts';
import { imageSize } from './image-size.ts';

/**
 * Message HTML → an inert document for `<iframe sandbox srcdoc>` (no allow-scripts, no allow-same-origin,
 * no allow-forms). DOMPurify removes scripts, event handlers, forms, frames, objects, SVG/MathML and style
 * elements; the hooks below remove every reference to anything outside the message (src, srcset,
 * background, poster, url() in style) and turn links into text with their address shown, so that nothing
 * in the frame can load or navigate. `cid:` images of the message itself become data: URLs. A CSP in the
 * frame (which also inherits the page's) forbids every fetch but data: images, in case anything slipped.
 *
 * Images fit the frame's width, their height in proportion (an inline style that outranks the message's
 * own sizes). One wider than a phone (WIDE px) sits in a `<details>` whose summary is the fitted image:
 * tapping it, or Enter/Space on it, shows the image whole at its own size below (scrolling sideways in its
 * own box), tapping again folds it. No script and no style element are needed: the frame has neither.
 * The whole view is a box with the image as its background (role img): every `<img>` in the frame, shown
 * or folded away, stays within the frame's width.
 */
export interface Sanitised {
  srcdoc: string;
  remoteBlocked: boolean;
}

const URL_ATTRS = ['src', 'srcset', 'background', 'poster', 'lowsrc', 'dynsrc', 'longdesc', 'data', 'href'];
const FORBID_TAGS = [
  'style',
  'link',
  'meta',
  'base',
  'form',
  'input',
  'button',
  'textarea',
  'select',
  'option',
  'iframe',
  'frame',
  'frameset',
  'object',
  'embed',
  'applet',
  'audio',
  'video',
  'source',
  'track',
  'picture',
  'canvas',
  'template',
  'noscript',
  'svg',
  'math',
  'portal',
  'dialog',
];
const FRAME_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'none'";

const SAFE_DATA_IMAGE = /^data:image\/(png|gif|jpe?g|webp|bmp);base64,[a-z0-9+/=\s]*$/i;

const FIT = 'max-width:100%!important;height:auto!important';
const WIDE = 320;

export function sanitiseHtml(
  html: string,
  inline: ReadonlyMap<string, { type: string; bytes: Uint8Array }>,
  labels: { imageWhole: string } = { imageWhole: 'Bild in voller Größe zeigen' },
): Sanitised {
  const purify = DOMPurify();
  let remoteBlocked = false;
  purify.addHook('afterSanitizeAttributes', (node) => {
    if (!(node instanceof Element)) return;
    if (node.tagName === 'A') {
      const href = node.getAttribute('href');
      node.removeAttribute('href');
      if (href && !href.startsWith('#') && (node.textContent ?? '').trim() !== href.trim()) {
        node.after(node.ownerDocument.createTextNode(` <${href}>`));
      }
    }
    for (const name of URL_ATTRS) {
      const value = node.getAttribute(name);
      if (value === null) continue;
      if (name === 'src' && node.tagName === 'IMG') {
        const cid = /^cid:(.+)$/i.exec(value.trim());
        const part = cid ? inline.get(`<${cid[1]}>`) : undefined;
        if (part && /^image\/(png|gif|jpe?g|webp|bmp)$/.test(part.type)) {
          node.setAttribute('src', `data:${part.type};base64,${toBase64(part.bytes)}`);
          continue;
        }
        if (SAFE_DATA_IMAGE.test(value.trim())) continue;
      }
      node.removeAttribute(name);
      if (name !== 'href') remoteBlocked = true;
    }
    node.removeAttribute('target');
    const style = node.getAttribute('style');
    if (style !== null && /url\s*\(|image-set|@import|expression\s*\(|\\/i.test(style)) {
      remoteBlocked ||= /url\s*\(|image-set|@import/i.test(style);
      node.removeAttribute('style');
    }
    if (node.tagName === 'IMG') {
      const own = node.getAttribute('style');
      node.setAttribute('style', own ? `${own};${FIT}` : FIT);
    }
  });
  const body = purify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS,
    FORBID_ATTR: ['action', 'formaction', 'ping', 'xlink:href', 'srcdoc', 'target'],
    ALLOW_DATA_ATTR: false,
    ALLOW_UNKNOWN_PROTOCOLS: false,
    WHOLE_DOCUMENT: false,
  });
  const srcdoc =
    '<!doctype html><html><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${FRAME_CSP}">` +
    '<meta name="referrer" content="no-referrer"></head>' +
    '<body style="margin:12px;font-family:system-ui,sans-serif;overflow-wrap:anywhere">' +
    `${wholeOnTap(body, labels.imageWhole)}</body></html>`;
  return { srcdoc, remoteBlocked };
}

/** Each wide image → `<details><summary>fitted</summary><div>whole</div></details>` (see above). */
function wholeOnTap(body: string, label: string): string {
  if (!/<img\b/i.test(body)) return body;
  const doc = new DOMParser().parseFromString(`<!doctype html><body>${body}`, 'text/html');
  let changed = false;
  for (const img of Array.from(doc.body.querySelectorAll('img'))) {
    const src = /^data:image\/[a-z]+;base64,([a-z0-9+/=\s]*)$/i.exec(img.getAttribute('src') ?? '');
    const head = src?.[1]?.replace(/\s/g, '').slice(0, 65_536);
    const size = head ? imageSize(fromBase64(head.slice(0, head.length - (head.length % 4)))) : undefined;
    if (!size || size.width <= WIDE) continue;
    const details = doc.createElement('details');
    details.setAttribute('style', 'display:block;max-width:100%;margin:0.25em 0');
    const summary = doc.createElement('summary');
    summary.setAttribute('style', 'display:block;list-style:none;cursor:zoom-in');
    summary.setAttribute('title', label);
    summary.setAttribute('aria-label', [img.getAttribute('alt'), label].filter(Boolean).join(': '));
    const box = doc.createElement('div');
    box.setAttribute('style', 'overflow-x:auto;max-width:100%');
    const whole = doc.createElement('div');
    whole.setAttribute('role', 'img');
    whole.setAttribute('aria-label', img.getAttribute('alt') ?? '');
    whole.setAttribute('data-whole', '');
    const url = img.getAttribute('src')!.replace(/\s/g, ''); // base64 only: no quote, bracket or space
    whole.setAttribute(
      'style',
      `width:${size.width}px;height:${size.height}px;background:url(${url}) no-repeat;background-size:100% 100%`,
    );
    box.append(whole);
    img.replaceWith(details);
    summary.append(img);
    details.append(summary, box);
    changed = true;
  }
  return changed ? doc.body.innerHTML : body;
}
