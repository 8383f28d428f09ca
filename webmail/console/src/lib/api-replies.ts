import * as contract from '../../../contract/console.ts';
import {
  repliesAnswer,
  replyTextAnswer,
  type RepliesAnswer,
  type ReplyTextAnswer,
} from '../../../contract/console-replies.ts';
import { call } from './api.ts';

/** The replies screen's calls (webmail/contract/console-replies.ts). */
export function replies(page: number): Promise<RepliesAnswer> {
  return call('GET', `/replies?page=${page}`, repliesAnswer);
}

/** One reply, decrypted by the server for this answer only. */
export function readReply(id: string): Promise<ReplyTextAnswer> {
  return call('GET', `/replies/${encodeURIComponent(id)}`, replyTextAnswer);
}

export async function deleteReply(id: string): Promise<void> {
  await call('POST', `/replies/${encodeURIComponent(id)}/delete`, contract.okAnswer);
}
