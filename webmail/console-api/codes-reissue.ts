import { ContactStore, inThreadCrypto, issueNewCode } from '../../keys/index.ts';
import { codeIdSchema } from '../contract/console.ts';
import { sendConsole } from './http.ts';
import type { ConsoleRoute, RouteContext } from './routes.ts';

/**
 * "Issue a new code" on a line of hers that is no longer readable (docs/console.md, after a password reset):
 * the contact of HER code line gets a new key pair and code — keys/contact-actions.ts, the same function as
 * `sealpost contact code` — encrypted to her (new) console key; the receipts list the messages to resend.
 * The new code is not in the answer: her screen reloads the list and decrypts it, as every other code.
 */
async function newCode({ deps, req, res, user, audit }: RouteContext): Promise<void> {
  const id = codeIdSchema.safeParse(req.params.id);
  if (!id.success) return sendConsole(res, 'CON_NOT_FOUND');
  const line = await deps.db.stores.console.codeOf(user.id, id.data);
  if (!line) return sendConsole(res, 'CON_NOT_FOUND');
  const crypto = deps.crypto ?? inThreadCrypto();
  const contacts = new ContactStore({ db: deps.db.kysely, clock: deps.clock, crypto });
  const result = await issueNewCode(
    { config: deps.config, sealer: deps.sealer, clock: deps.clock, stores: deps.db.stores, contacts },
    line.contactAddress,
    user.login,
  );
  if (!result) return sendConsole(res, 'CON_NOT_FOUND');
  await deps.enqueue(result.outboundIds);
  await audit('console.code.reissued', line.contactAddress);
  deps.log.info('CON_CODE_REISSUED', { user: user.login, id: id.data, count: result.stale.length });
  res.json({ ok: true });
}

export const codesReissueRoutes: readonly ConsoleRoute[] = [
  {
    method: 'POST',
    path: '/codes/:id/new-code',
    role: 'user',
    handle: newCode,
    summary: 'A new access code for the contact of one of her waiting codes.',
  },
];
