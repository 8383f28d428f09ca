import { z } from 'zod';
import { removePolicyRule, setPolicyRule, type PolicyRule } from '../../core/policy-rules.ts';
import {
  explainRequest,
  policyRemoveRequest,
  policySetRequest,
  type ExplainAnswer,
  type PolicyAnswer,
  explainAnswer,
  policyAnswer,
} from '../contract/console-policy.ts';
import { sendConsole } from './http.ts';
import type { ConsoleRoute, RouteContext } from './routes.ts';

/**
 * The policy screen (docs/admin-console.md): the same store functions as `sealpost policy set/remove`
 * (core/policy-rules.ts, audited there), and the explain box asks the same explain() as `sealpost explain`
 * (keys/policy/explain.ts: the gateway's decideRecipient and policy engine; nothing is sent or recorded).
 */

/** The engine's order: one address, then an exact domain, then '.domain' (longer first), then '*'. */
function rank(match: string): number {
  if (match === '*') return 0;
  if (match.includes('@')) return 3_000_000;
  return match.startsWith('.') ? 1_000_000 + match.length : 2_000_000;
}

function line(r: PolicyRule): PolicyAnswer['rules'][number] {
  return { id: r.id, match: r.match, action: r.action, note: r.note, reason: r.reason ?? null };
}

async function list({ deps, res }: RouteContext): Promise<void> {
  const rules = await deps.db.stores.rules.list();
  rules.sort((a, b) => rank(b.match) - rank(a.match) || a.match.localeCompare(b.match));
  const answer: PolicyAnswer = { rules: rules.map(line) };
  res.json(answer);
}

async function set({ deps, req, res, user }: RouteContext): Promise<void> {
  const body = policySetRequest.safeParse(req.body);
  if (!body.success) return sendConsole(res, 'CON_BAD_REQUEST');
  const stores = deps.db.stores;
  try {
    const rule = await setPolicyRule(
      { rules: stores.rules, audit: stores.audit },
      body.data,
      { actor: user.login, ...(req.ip ? { ip: req.ip } : {}) },
      deps.clock.now(),
    );
    res.json({ rule: line(rule) });
  } catch (err) {
    if (err instanceof z.ZodError) return sendConsole(res, 'CON_BAD_REQUEST');
    throw err;
  }
}

async function remove({ deps, req, res, user }: RouteContext): Promise<void> {
  const body = policyRemoveRequest.safeParse(req.body);
  if (!body.success) return sendConsole(res, 'CON_BAD_REQUEST');
  const stores = deps.db.stores;
  const who = { actor: user.login, ...(req.ip ? { ip: req.ip } : {}) };
  const removed = await removePolicyRule(
    { rules: stores.rules, audit: stores.audit },
    body.data.match,
    who,
    deps.clock.now(),
  ).catch((err: unknown) => {
    if (err instanceof z.ZodError) return false;
    throw err;
  });
  if (!removed) return sendConsole(res, 'CON_NOT_FOUND');
  res.json({ ok: true });
}

async function explainOne({ deps, req, res, audit }: RouteContext): Promise<void> {
  const body = explainRequest.safeParse(req.body);
  if (!body.success || !deps.explain)
    return sendConsole(res, body.success ? 'CON_UNAVAILABLE' : 'CON_BAD_REQUEST');
  const e = await deps.explain({ from: body.data.from, to: [body.data.to] }).catch((err: unknown) => {
    if (err instanceof Error && err.name === 'ExplainInputError') return undefined;
    throw err;
  });
  const r = e?.recipients[0];
  if (!e || !r) return sendConsole(res, 'CON_BAD_REQUEST');
  const answer: ExplainAnswer = {
    recipient: r.recipient,
    verdict: r.verdict,
    code: r.code,
    reply: r.reply,
    reason: r.reason,
    rule: r.rule ? { match: r.rule.match, action: r.rule.action, note: r.rule.note } : null,
    key: { state: r.key.state, ...(r.key.fingerprint ? { fingerprint: r.key.fingerprint } : {}) },
    ...(e.blocked ? { blocked: e.blocked } : {}),
  };
  await audit('policy.explain', r.recipient);
  res.json(answer);
}

export const adminPolicyRoutes: readonly ConsoleRoute[] = [
  {
    method: 'GET',
    path: '/policy',
    role: 'admin',
    handle: list,
    summary: 'The policy rules, most specific first (the order the engine applies them).',
    answer: policyAnswer,
  },
  {
    method: 'POST',
    path: '/policy',
    role: 'admin',
    handle: set,
    summary: 'Add or change the rule for an address, domain, .domain or *.',
    body: policySetRequest,
  },
  {
    method: 'POST',
    path: '/policy/remove',
    role: 'admin',
    handle: remove,
    summary: 'Remove the rule for a match.',
    body: policyRemoveRequest,
  },
  {
    method: 'POST',
    path: '/policy/explain',
    role: 'admin',
    handle: explainOne,
    summary: 'From + to: the verdict the gateway would take now, and why (nothing sent or recorded).',
    body: explainRequest,
    answer: explainAnswer,
  },
];
