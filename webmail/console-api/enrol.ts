import QRCode from 'qrcode';
import { effectiveSettings } from '../../core/settings.ts';
import { enrolContact, enrolContactWithPassphrase, inThreadCrypto } from '../../keys/index.ts';
import {
  enrolAnswer,
  enrolPassphraseAnswer,
  enrolPassphraseRequest,
  enrolRequest,
  type EnrolAnswer,
} from '../contract/console-enrol.ts';
import type { ConsoleApiDeps } from './deps.ts';
import { sendConsole } from './http.ts';
import type { ConsoleRoute, RouteContext } from './routes.ts';

/**
 * "New secure contact" (docs/console.md): she enrols a client in person before the first mail. The contact
 * is made as the gateway makes a new one (keys/contact-actions.ts enrolContact); the answer is the printable
 * card, its code only as OpenPGP to her console key — shown once by her browser, stored nowhere, never
 * logged. The card's link (and its QR code) is SEALPOST_PUBLIC_URL, whose root is the landing page
 * (webmail/landing.ts: how to pick up a message, the way to the console): a pickup link belongs to a message, and the client has
 * none yet; each message arrives by e-mail with its own link, opened with the code on the card.
 */
async function enrol({ deps, req, res, user, audit }: RouteContext): Promise<void> {
  const body = enrolRequest.safeParse(req.body);
  if (!body.success) return sendConsole(res, 'CON_BAD_REQUEST');
  const crypto = deps.crypto ?? inThreadCrypto();
  const result = await enrolContact(
    { stores: deps.db.stores, clock: deps.clock, crypto },
    user.id,
    body.data.address,
  );
  if (result.outcome === 'exists') return sendConsole(res, 'CON_CONTACT_EXISTS');
  if (result.outcome === 'no-console-key') return sendConsole(res, 'CON_KEY_CHANGED');
  await audit('console.contact.enrol', result.address);
  deps.log.info('CON_CONTACT_ENROLLED', { user: user.login, contact: result.id });
  const answer: EnrolAnswer = {
    ...(await card(deps, result.address)),
    ciphertext: Buffer.from(result.encryptedCode).toString('base64'),
  };
  res.json(enrolAnswer.parse(answer));
}

/** The card's practice, address and QR code (what both ways of enrolling print). */
async function card(deps: ConsoleApiDeps, contact: string) {
  const pickupUrl = deps.config.publicUrl;
  return {
    contact,
    practice: (await effectiveSettings(deps)).practiceName,
    pickupUrl,
    qr: await QRCode.toDataURL(pickupUrl, { margin: 2, width: 220 }),
  };
}

/**
 * The client chose their own passphrase on her device (docs/console.md "Own passphrase"): her browser made
 * the key pair, derived with a person's passphrase cost and locked the private key, as the pickup app's
 * "change the code" does; the server stores that lock and SHA-256(authKey). No code exists, none waits in
 * the console; the card has none. A weak KDF, a key that does not name the address or is unusable: 400.
 */
async function enrolWithPassphrase({ deps, req, res, user, audit }: RouteContext): Promise<void> {
  const body = enrolPassphraseRequest.safeParse(req.body);
  if (!body.success) return sendConsole(res, 'CON_BAD_REQUEST');
  const { secret } = body.data;
  const result = await enrolContactWithPassphrase(
    { stores: deps.db.stores, clock: deps.clock },
    body.data.address,
    {
      contactId: body.data.contactId,
      publicKey: body.data.publicKey,
      kdf: secret.kdf,
      authKey: Buffer.from(secret.authKey, 'base64'),
      lockedPrivateKey: Buffer.from(secret.lockedPrivateKey, 'base64'),
    },
  );
  if (result.outcome === 'exists') return sendConsole(res, 'CON_CONTACT_EXISTS');
  if (result.outcome === 'invalid') return sendConsole(res, 'CON_BAD_REQUEST');
  await audit('console.contact.enrol.passphrase', result.address);
  deps.log.info('CON_CONTACT_ENROLLED', { user: user.login, contact: result.id });
  res.json(enrolPassphraseAnswer.parse(await card(deps, result.address)));
}

export const enrolRoutes: readonly ConsoleRoute[] = [
  {
    method: 'POST',
    path: '/contacts',
    role: 'user',
    handle: enrol,
    summary: 'Enrol a client in person: a new contact whose code is shown once (card with QR code).',
    body: enrolRequest,
    answer: enrolAnswer,
  },
  {
    method: 'POST',
    path: '/contacts/passphrase',
    role: 'user',
    handle: enrolWithPassphrase,
    summary:
      'Enrol a client in person with their own passphrase: the browser made and locked the key; no code exists.',
    body: enrolPassphraseRequest,
    answer: enrolPassphraseAnswer,
  },
];
