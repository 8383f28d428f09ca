import QRCode from 'qrcode';
import { enrolContact, inThreadCrypto } from '../../keys/index.ts';
import { enrolAnswer, enrolRequest, type EnrolAnswer } from '../contract/console-enrol.ts';
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
  const pickupUrl = deps.config.publicUrl;
  const answer: EnrolAnswer = {
    contact: result.address,
    practice: deps.config.practiceName,
    pickupUrl,
    qr: await QRCode.toDataURL(pickupUrl, { margin: 2, width: 220 }),
    ciphertext: Buffer.from(result.encryptedCode).toString('base64'),
  };
  res.json(enrolAnswer.parse(answer));
}

export const enrolRoutes: readonly ConsoleRoute[] = [
  { method: 'POST', path: '/contacts', role: 'user', handle: enrol },
];
