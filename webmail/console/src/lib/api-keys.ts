import * as keys from '../../../contract/console-keys.ts';
import { call } from './api.ts';

/** The admin's keys screen (docs/admin-console.md), checked against the contract. */
export const keyList = (q: string, page: number) =>
  call('GET', `/keys?${new URLSearchParams({ q, page: String(page) }).toString()}`, keys.keysAnswer);
export const decideChange = (id: string, decision: 'approve' | 'reject') =>
  call('POST', `/keys/changes/${encodeURIComponent(id)}/${decision}`, keys.decideAnswer);
export const importKey = (armored: string) => call('POST', '/keys/import', keys.importAnswer, { armored });
