import * as z from 'zod/mini';

/**
 * The replies screen's contract (/console/replies, docs/console.md "Replies"): shared by the server
 * (webmail/console-api/console-replies.ts) and the app. Browser code: no Node module.
 */
export const replyIdSchema = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/));

export const REPLIES_PAGE_SIZE = 20;

/** GET /api/console/replies?page=N (0-based). */
export const repliesPageSchema = z.optional(z.string().check(z.regex(/^[0-9]{1,6}$/)));

export const replyVerdict = z.enum(['valid', 'invalid', 'unknown-key', 'none', 'unreadable']);
export type ReplyVerdict = z.infer<typeof replyVerdict>;

export const repliesAnswer = z.strictObject({
  replies: z.array(
    z.strictObject({
      id: replyIdSchema,
      contact: z.string(),
      received: z.string(),
      signature: replyVerdict,
    }),
  ),
  page: z.number(),
  pages: z.number(),
});
export type RepliesAnswer = z.infer<typeof repliesAnswer>;

/** GET /api/console/replies/:id: the reply opened for this one answer (never stored decrypted). */
export const replyTextAnswer = z.strictObject({
  id: replyIdSchema,
  contact: z.string(),
  received: z.string(),
  signature: replyVerdict,
  text: z.string(),
  /** Attachments are not shown in the console; how many there are. */
  attachments: z.number(),
});
export type ReplyTextAnswer = z.infer<typeof replyTextAnswer>;
