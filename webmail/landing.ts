import express, { type Request, type Router } from 'express';
import type { Config } from '../core/config.ts';
import { effectiveSettings } from '../core/settings.ts';
import { consoleUrl } from '../keys/notices/index.ts';
import { htmlText } from '../keys/verdict-line/notice.ts';
import { PICKUP_CSP } from './pages.ts';

/**
 * The landing page at the root of SEALPOST_PUBLIC_URL (docs/pickup.md "Landing page"): where the QR code of
 * the enrolment card leads (webmail/console-api/enrol.ts), and what a person finds who types the address.
 * Static, no script, under the pages' CSP: the practice's name, how a message is picked up (with the link
 * of its notification mail: a pickup is reached only through its own link) and the way to the console.
 * German by default; English by `?lang=en` or when the browser prefers it.
 */
type Lang = 'de' | 'en';

const TEXT = {
  de: {
    title: 'Sichere Nachrichten',
    of: 'von',
    pickup: 'Nachricht abholen',
    pickupHow:
      'Sie haben eine E-Mail mit einem Link zu einer sicheren Nachricht erhalten? Öffnen Sie den Link aus dieser Benachrichtigung und geben Sie Ihren Zugangscode oder Ihr eigenes Passwort ein. Jede Nachricht lässt sich nur über ihren eigenen Link öffnen; hier gibt es kein Postfach zum Anmelden.',
    pickupCard:
      'Ihren Zugangscode hat Ihnen die Praxis persönlich, telefonisch oder auf einer Karte gegeben; er kommt nie per E-Mail.',
    console: 'Praxis-Konsole',
    consoleHow: 'Für die Mitarbeitenden der Praxis: Zugangscodes, gesendete Nachrichten und Verwaltung.',
    other: 'English', // the switch to the other language, named in it
    imprint: 'Impressum',
    privacy: 'Datenschutz',
  },
  en: {
    title: 'Secure messages',
    of: 'from',
    pickup: 'Pick up a message',
    pickupHow:
      'Did you receive an e-mail with a link to a secure message? Open the link from that notification and enter your access code or your own passphrase. Each message opens only through its own link; there is no mailbox to sign in to here.',
    pickupCard:
      'The practice gave you your access code in person, by phone or on a card; it never comes by e-mail.',
    console: 'Practice console',
    consoleHow: "For the practice's staff: access codes, sent messages and administration.",
    other: 'Deutsch',
    imprint: 'Imprint',
    privacy: 'Privacy',
  },
} as const satisfies Record<Lang, Record<string, string>>;

const CSS = `:root{color-scheme:light;--accent:#1d4f91;--line:#c9d1dc;--muted:#4a5563}
*{box-sizing:border-box}
body{margin:0;font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#f4f6f9}
main{max-width:40rem;margin:0 auto;padding:1.25rem 1rem 2rem}
header{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.5rem;align-items:baseline}
h1{font-size:1.5rem;margin:.25rem 0 1rem;overflow-wrap:anywhere}
h2{font-size:1.15rem;margin:0 0 .5rem}
section{background:#fff;border:1px solid var(--line);border-radius:6px;padding:1rem;margin-top:1rem}
a{color:var(--accent)}
a:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.muted{color:var(--muted)}
.go-list{display:flex;flex-wrap:wrap;gap:.5rem}
.go{display:inline-block;margin-top:.25rem;padding:.5rem .9rem;border-radius:4px;background:var(--accent);color:#fff;text-decoration:none}
footer{margin-top:1.5rem;display:flex;gap:1rem;flex-wrap:wrap}
`;

/** `?lang=` when given, else the browser's preference between the two, else German. */
export function landingLang(req: Request): Lang {
  const asked = req.query['lang'];
  if (asked === 'de' || asked === 'en') return asked;
  return req.acceptsLanguages('de', 'en') === 'en' ? 'en' : 'de';
}

export function landingHtml(
  config: Pick<Config, 'practiceName' | 'publicUrl' | 'imprintUrl' | 'privacyUrl'>,
  lang: Lang,
): string {
  const t = TEXT[lang];
  const other: Lang = lang === 'de' ? 'en' : 'de';
  const links = [
    config.imprintUrl ? `<a href="${htmlText(config.imprintUrl)}">${t.imprint}</a>` : '',
    config.privacyUrl ? `<a href="${htmlText(config.privacyUrl)}">${t.privacy}</a>` : '',
  ].join('');
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${t.title} – ${htmlText(config.practiceName)}</title>
<link rel="stylesheet" href="/landing.css">
</head>
<body>
<main>
<header>
<p class="muted">${t.title} ${t.of}</p>
<a href="?lang=${other}" hreflang="${other}" lang="${other}">${t.other}</a>
</header>
<h1>${htmlText(config.practiceName)}</h1>
<nav class="go-list">
<a class="go" href="#pickup">${t.pickup}</a>
<a class="go" href="${htmlText(consoleUrl(config))}">${t.console}</a>
</nav>
<section aria-labelledby="pickup">
<h2 id="pickup">${t.pickup}</h2>
<p>${t.pickupHow}</p>
<p class="muted">${t.pickupCard}</p>
</section>
<section aria-labelledby="console">
<h2 id="console">${t.console}</h2>
<p>${t.consoleHow} <a href="${htmlText(consoleUrl(config))}">${htmlText(consoleUrl(config))}</a></p>
</section>
${links ? `<footer>${links}</footer>` : ''}
</main>
</body>
</html>
`;
}

/** `GET /` (the page) and `GET /landing.css` (its style: the CSP allows no inline style element). */
export function landingPage(
  deps: Parameters<typeof effectiveSettings>[0] & {
    readonly config: Pick<Config, 'publicUrl' | 'imprintUrl' | 'privacyUrl'>;
  },
): Router {
  const router = express.Router();
  router.get('/', async (req, res) => {
    // The practice name in force: an admin may have set it in the console (core/settings.ts).
    const { practiceName } = await effectiveSettings(deps);
    res.setHeader('Content-Security-Policy', PICKUP_CSP);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Vary', 'Accept-Language');
    res.type('html').send(landingHtml({ ...deps.config, practiceName }, landingLang(req)));
  });
  router.get('/landing.css', (_req, res) => {
    res.setHeader('Content-Security-Policy', PICKUP_CSP);
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.type('css').send(CSS);
  });
  return router;
}
