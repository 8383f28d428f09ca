import * as contract from '../../../contract/console-sent.ts';
import { call } from './api.ts';

/** The sent-messages screen's calls (webmail/contract/console-sent.ts). */
export function sentPage(page: number) {
  return call('GET', `/sent?page=${page}`, contract.sentAnswer);
}

export function evidenceOf(id: string) {
  return call('GET', `/sent/${encodeURIComponent(id)}/evidence`, contract.evidenceAnswer);
}

export type RecipientAction = 'withdraw' | 'new-code' | 'unlock';

export async function actOn(recipientId: string, action: RecipientAction): Promise<void> {
  const schema = action === 'new-code' ? contract.newCodeAnswer : contract.okAnswer;
  await call('POST', `/sent/recipients/${encodeURIComponent(recipientId)}/${action}`, schema);
}
