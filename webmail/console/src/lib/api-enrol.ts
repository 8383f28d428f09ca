import { enrolAnswer, type EnrolRequest } from '../../../contract/console-enrol.ts';
import { call } from './api.ts';

/** The "new secure contact" screen's call (webmail/contract/console-enrol.ts): the printable card. */
export async function enrolContact(body: EnrolRequest) {
  return call('POST', '/contacts', enrolAnswer, body);
}
