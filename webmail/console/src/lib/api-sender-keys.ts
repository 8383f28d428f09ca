import * as keys from '../../../contract/console-sender-keys.ts';
import * as recipient from '../../../contract/console-keys.ts';
import { call } from './api.ts';

/** The admin's sender keys screen and the recipient key actions (docs/admin-console.md), checked. */
export const senderKeyList = (q: string, page: number) =>
  call(
    'GET',
    `/sender-keys?${new URLSearchParams({ q, page: String(page) }).toString()}`,
    keys.senderKeysAnswer,
  );
export const generateSenderKey = (address: string, rotate: boolean) =>
  call('POST', `/sender-keys/${rotate ? 'rotate' : 'generate'}`, keys.generatedAnswer, { address });
export const importSenderKey = (armored: string, passphrase: string) =>
  call('POST', '/sender-keys/import', recipient.importAnswer, {
    armored,
    ...(passphrase ? { passphrase } : {}),
  });
export const senderPublicKey = (fingerprint: string) =>
  call('GET', `/sender-keys/${encodeURIComponent(fingerprint)}/public`, keys.publicKeyAnswer);
export const revokeSenderKey = (fingerprint: string) =>
  call('POST', '/sender-keys/revoke', keys.revokeAnswer, { fingerprint });
export const recipientKeyAction = (action: 'pin' | 'drop', address: string, fingerprint: string) =>
  call('POST', `/keys/${action}`, keys.okAnswer, { address, fingerprint });
