import {
  enrolAnswer,
  enrolPassphraseAnswer,
  type EnrolPassphraseRequest,
  type EnrolRequest,
} from '../../../contract/console-enrol.ts';
import { call } from './api.ts';

/** The "new secure contact" screen's call (webmail/contract/console-enrol.ts): the printable card. */
export async function enrolContact(body: EnrolRequest) {
  return call('POST', '/contacts', enrolAnswer, body);
}

/** Enrolment with the client's own passphrase (lib/enrol-passphrase.ts made the request): a card without code. */
export async function enrolWithPassphrase(body: EnrolPassphraseRequest) {
  return call('POST', '/contacts/passphrase', enrolPassphraseAnswer, body);
}
