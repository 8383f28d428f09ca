import * as contract from '../../../contract/console-contacts.ts';
import { okAnswer } from '../../../contract/console.ts';
import { call } from './api.ts';

/** The admin's pickup contacts screen (/console/contacts), checked against webmail/contract/console-contacts.ts. */
export const contactList = (page: number) => call('GET', `/contacts?page=${page}`, contract.contactsAnswer);
export const unlock = (address: string) => call('POST', '/contacts/unlock', okAnswer, { address });
export const newCode = (address: string) =>
  call('POST', '/contacts/new-code', contract.newCodeAnswer, { address });
export const erasurePreview = (address: string) =>
  call('GET', `/contacts/erasure?address=${encodeURIComponent(address)}`, contract.erasureAnswer);
export const erase = (address: string) =>
  call('POST', '/contacts/delete', contract.erasureAnswer, { address });
