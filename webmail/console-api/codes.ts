import { codeIdSchema, type CodesAnswer, codesAnswer, okAnswer } from '../contract/console.ts';
import { sendConsole } from './http.ts';
import type { ConsoleRoute, RouteContext } from './routes.ts';

/** Her waiting codes, as OpenPGP to her console key (unsealed here; only her browser can decrypt them). */
async function listCodes({ deps, res, user, audit }: RouteContext): Promise<void> {
  const [rows, key] = await Promise.all([
    deps.db.stores.console.codesOf(user.id),
    deps.db.stores.console.keyOf(user.id),
  ]);
  const answer: CodesAnswer = {
    codes: rows.map((r) => ({
      id: r.id,
      contact: r.contactAddress,
      since: new Date(r.createdAt).toISOString(),
      readable: r.keyFingerprint === key?.fingerprint,
      ciphertext: deps.sealer.open('console', r.ciphertext, r.id).toString('base64'),
    })),
  };
  await audit('console.codes');
  res.json(answer);
}

async function handedOver({ deps, req, res, user, audit }: RouteContext): Promise<void> {
  const id = codeIdSchema.safeParse(req.params.id);
  if (!id.success) return sendConsole(res, 'CON_NOT_FOUND');
  const gone = await deps.db.stores.console.deleteCode(user.id, id.data);
  if (!gone) return sendConsole(res, 'CON_NOT_FOUND');
  await audit('console.code.handed-over', gone.contactAddress);
  deps.log.info('CON_CODE_HANDED_OVER', { user: user.login, id: id.data });
  res.json({ ok: true });
}

/** The access codes screen (the first one after sign-in). */
export const codesRoutes: readonly ConsoleRoute[] = [
  {
    method: 'GET',
    path: '/codes',
    role: 'user',
    handle: listCodes,
    summary: 'Her access codes waiting to be handed over (encrypted to her console key).',
    answer: codesAnswer,
  },
  {
    method: 'POST',
    path: '/codes/:id/handed-over',
    role: 'user',
    handle: handedOver,
    summary: 'Mark a code as handed over (it is deleted).',
    answer: okAnswer,
  },
];
