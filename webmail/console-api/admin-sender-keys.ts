import { KeyImportError, newSenderKey, SenderKeyError, type SenderKeyRow } from '../../keys/index.ts';
import {
  generatedAnswer,
  publicKeyAnswer,
  revokeAnswer,
  revokeRequest,
  senderKeysAnswer,
  SENDER_KEYS_PAGE_SIZE,
  senderAddressRequest,
  senderImportRequest,
  senderKeysQuery,
  type SenderKeyLine,
  type SenderKeysAnswer,
} from '../contract/console-sender-keys.ts';
import { sendConsole } from './http.ts';
import type { ConsoleRoute, RouteContext } from './routes.ts';

/**
 * The sender keys screen (docs/admin-console.md "Sender keys"): the same functions as the CLI's
 * `sealpost key generate|rotate|import|export|revoke` (keys/sender-key-actions.ts and the key store);
 * each mutating route writes the key store's one audit entry with the signed-in admin and her IP.
 */

function line(k: SenderKeyRow): SenderKeyLine {
  return {
    ...k,
    created: k.created.toISOString(),
    expires: k.expires?.toISOString() ?? null,
    revokedAt: k.revokedAt?.toISOString() ?? null,
  };
}

function actorOf({ req, user }: RouteContext): { actor: string; ip?: string } {
  return { actor: user.login, ...(req.ip ? { ip: req.ip } : {}) };
}

async function list({ deps, req, res }: RouteContext): Promise<void> {
  const q = senderKeysQuery.safeParse(req.query);
  if (!q.success) return sendConsole(res, 'CON_BAD_REQUEST');
  const page = q.data.page ?? 0;
  const found = await deps.keys.senderKeyPage({
    ...(q.data.q ? { q: q.data.q } : {}),
    offset: page * SENDER_KEYS_PAGE_SIZE,
    limit: SENDER_KEYS_PAGE_SIZE,
  });
  const answer: SenderKeysAnswer = {
    keys: found.keys.map(line),
    total: found.total,
    page,
    pageSize: SENDER_KEYS_PAGE_SIZE,
    addresses: (await deps.db.stores.users.allAddresses()).sort(),
  };
  res.json(answer);
}

function generate(rotate: boolean) {
  return async (ctx: RouteContext): Promise<void> => {
    const { deps, req, res } = ctx;
    const body = senderAddressRequest.safeParse(req.body);
    if (!body.success) return sendConsole(res, 'CON_BAD_REQUEST');
    // A key only for an address a user may send as (the CLI may prepare one before the user exists).
    if (!(await deps.db.stores.users.isKnownAddress(body.data.address)))
      return sendConsole(res, 'CON_NOT_FOUND');
    // Generate is for an address without a key; one with a key is rotated (so that the audit says so).
    if (!rotate && (await deps.keys.senderKey(body.data.address))) return sendConsole(res, 'CON_KEY_STATE');
    try {
      const key = await newSenderKey(
        { keys: deps.keys, users: deps.db.stores.users },
        { address: body.data.address, rotate, who: actorOf(ctx) },
      );
      res.json({ fingerprint: key.fingerprint, previous: key.previous ?? null });
    } catch (err) {
      if (!(err instanceof SenderKeyError)) throw err;
      sendConsole(res, 'CON_KEY_STATE');
    }
  };
}

async function importKey(ctx: RouteContext): Promise<void> {
  const { deps, req, res } = ctx;
  const body = senderImportRequest.safeParse(req.body);
  if (!body.success) return sendConsole(res, 'CON_BAD_REQUEST');
  // This screen imports sender keys only; a public key is pinned on the keys screen.
  if (!body.data.armored.includes('-----BEGIN PGP PRIVATE KEY BLOCK-----'))
    return sendConsole(res, 'CON_KEY_INVALID');
  try {
    // Only for addresses a user may send as: an import never makes a sender key for an outside address.
    const imported = await deps.keys.importKeys(
      body.data.armored,
      actorOf(ctx),
      body.data.passphrase || undefined,
      (address) => deps.db.stores.users.isKnownAddress(address),
    );
    res.json({ imported });
  } catch (err) {
    if (!(err instanceof KeyImportError)) throw err;
    sendConsole(res, 'CON_KEY_INVALID');
  }
}

async function exportPublic({ deps, req, res }: RouteContext): Promise<void> {
  const fpr = String(req.params.fingerprint ?? '');
  if (!/^[0-9A-Fa-f]{40}$|^[0-9A-Fa-f]{64}$/.test(fpr)) return sendConsole(res, 'CON_NOT_FOUND');
  const armored = await deps.keys.senderPublicKey(fpr);
  if (!armored) return sendConsole(res, 'CON_NOT_FOUND');
  res.json({ fingerprint: fpr.toUpperCase(), armored });
}

async function revoke(ctx: RouteContext): Promise<void> {
  const { deps, req, res } = ctx;
  const body = revokeRequest.safeParse(req.body);
  if (!body.success) return sendConsole(res, 'CON_BAD_REQUEST');
  try {
    res.json(await deps.keys.revokeSenderKey(body.data.fingerprint, actorOf(ctx)));
  } catch (err) {
    if (!(err instanceof SenderKeyError)) throw err;
    sendConsole(res, err.reason === 'already-revoked' ? 'CON_KEY_STATE' : 'CON_NOT_FOUND');
  }
}

export const adminSenderKeyRoutes: readonly ConsoleRoute[] = [
  {
    method: 'GET',
    path: '/sender-keys',
    role: 'admin',
    handle: list,
    summary: 'The practice’s sender keys: fingerprint, algorithm, created, expires, state (paged).',
    query: senderKeysQuery,
    answer: senderKeysAnswer,
  },
  {
    method: 'POST',
    path: '/sender-keys/generate',
    role: 'admin',
    handle: generate(false),
    summary: 'Generate a sender key for an allowed sender address that has none.',
    body: senderAddressRequest,
    answer: generatedAnswer,
  },
  {
    method: 'POST',
    path: '/sender-keys/rotate',
    role: 'admin',
    handle: generate(true),
    summary: 'Rotate: a new active key, the old one kept for decrypting replies; the WKD serves the new one.',
    body: senderAddressRequest,
    answer: generatedAnswer,
  },
  {
    method: 'POST',
    path: '/sender-keys/import',
    role: 'admin',
    handle: importKey,
    summary: 'Import a sender’s private key (armored, optionally locked with a passphrase), sealed at rest.',
    body: senderImportRequest,
  },
  {
    method: 'GET',
    path: '/sender-keys/:fingerprint/public',
    role: 'admin',
    handle: exportPublic,
    summary: 'Export a sender key’s public half (armored; with its revocation when revoked).',
    answer: publicKeyAnswer,
  },
  {
    method: 'POST',
    path: '/sender-keys/revoke',
    role: 'admin',
    handle: revoke,
    summary: 'Revoke a sender key: never signs again; the WKD serves the revocation.',
    body: revokeRequest,
    answer: revokeAnswer,
  },
];
