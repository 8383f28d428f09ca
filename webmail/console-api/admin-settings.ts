import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { checkReadiness, databaseCheck, redisCheck } from '../../core/readiness.ts';
import {
  resetSetting,
  setSetting,
  settingLines,
  SettingValueError,
  type SettingLine,
} from '../../core/settings.ts';
import {
  settingResetRequest,
  settingSetRequest,
  type SettingAnswer,
  type SettingLineAnswer,
  type SettingsAnswer,
  settingAnswer,
  settingsAnswer,
} from '../contract/console-settings.ts';
import { sendConsole } from './http.ts';
import type { ConsoleRoute, RouteContext } from './routes.ts';

/**
 * Settings and health (docs/admin-console.md). The settings an admin may change while Sealpost runs
 * (core/settings.ts: practice name, notification language, retention, discovery, key-change policy) are
 * shown with the value in force, the configuration's value (environment or SEALPOST_CONFIG) and where the
 * value comes from; set and reset call the same functions as `sealpost settings set|reset`, audited with
 * old -> new. Whether pickup is on stays configuration (read-only). Health: the database and Redis answer,
 * the relay's last delivery and last failed attempt (from the spool), the TLS certificate's expiry, queue depth.
 */
const DAY = 86_400_000;

const editable = (l: SettingLine): SettingLineAnswer => ({ ...l, editable: true });

async function settings(deps: RouteContext['deps']): Promise<SettingsAnswer['settings']> {
  const c = deps.config;
  const pickup = c.pickup.enabled ? 'on' : 'off';
  const lines = (await settingLines(c, deps.db.stores.settings)).map(editable);
  return [
    ...lines.slice(0, 3),
    {
      key: 'pickup',
      env: 'SEALPOST_PICKUP',
      value: pickup,
      default: pickup,
      source: 'config',
      editable: false,
    },
    ...lines.slice(3),
  ];
}

/** The gateway's certificate: SEALPOST_TLS_CERT, or the self-signed one in the data folder (core/tls.ts). */
function tlsState(c: RouteContext['deps']['config'], now: number): SettingsAnswer['health']['tls'] {
  const file = c.tlsCert ?? path.join(c.dataDir, 'tls', 'cert.pem');
  if (!existsSync(file)) return null;
  try {
    const cert = new X509Certificate(readFileSync(file));
    const expires = Date.parse(cert.validTo);
    return {
      expires: new Date(expires).toISOString(),
      days: Math.floor((expires - now) / DAY),
      selfSigned: !c.tlsCert,
    };
  } catch {
    return null;
  }
}

async function show({ deps, res }: RouteContext): Promise<void> {
  const now = deps.clock.now().getTime();
  const checks = [databaseCheck(deps.db), redisCheck(deps.redis)];
  const [ready, relay, counts, deferred] = await Promise.all([
    checkReadiness(checks),
    deps.db.stores.outbound.relayHealth(),
    deps.db.stores.outbound.statusCounts(),
    deps.db.stores.outbound.deferredCount(),
  ]);
  const state = (name: string) => ({ state: ready.checks[name] ?? 'error' });
  const n = (status: string) => counts.filter((c) => c.status === status).reduce((a, c) => a + c.n, 0);
  const answer: SettingsAnswer = {
    settings: await settings(deps),
    health: {
      database: state('database'),
      redis: state('redis'),
      relay: {
        lastSuccess: relay.lastSuccess === null ? null : new Date(relay.lastSuccess).toISOString(),
        lastFailure: relay.lastFailure
          ? { ...relay.lastFailure, at: new Date(relay.lastFailure.at).toISOString() }
          : null,
      },
      tls: tlsState(deps.config, now),
      queue: { queued: n('queued'), deferred, bounced: n('bounced') },
    },
  };
  res.json(answer);
}

/** The stores and the acting admin, as setSetting/resetSetting take them. */
function actors({ deps, req, user }: RouteContext) {
  const stores = deps.db.stores;
  return {
    deps: { config: deps.config, stores },
    who: { actor: user.login, ...(req.ip ? { ip: req.ip } : {}) },
  };
}

async function set(ctx: RouteContext): Promise<void> {
  const body = settingSetRequest.safeParse(ctx.req.body);
  if (!body.success) return sendConsole(ctx.res, 'CON_BAD_REQUEST');
  const { deps, who } = actors(ctx);
  try {
    const line = await setSetting(deps, body.data, who, ctx.deps.clock.now());
    const answer: SettingAnswer = { setting: editable(line) };
    ctx.res.json(answer);
  } catch (err) {
    if (err instanceof SettingValueError) return sendConsole(ctx.res, 'CON_BAD_REQUEST');
    throw err;
  }
}

async function reset(ctx: RouteContext): Promise<void> {
  const body = settingResetRequest.safeParse(ctx.req.body);
  if (!body.success) return sendConsole(ctx.res, 'CON_BAD_REQUEST');
  const { deps, who } = actors(ctx);
  await resetSetting(deps, body.data, who, ctx.deps.clock.now());
  const line = (await settingLines(ctx.deps.config, ctx.deps.db.stores.settings)).find(
    (l) => l.key === body.data.key,
  );
  const answer: SettingAnswer = { setting: editable(line!) };
  ctx.res.json(answer);
}

export const adminSettingsRoutes: readonly ConsoleRoute[] = [
  {
    method: 'GET',
    path: '/settings',
    role: 'admin',
    handle: show,
    summary:
      "The settings in force (value, configuration's value, source) and the health of database, Redis, relay, TLS, queue.",
    answer: settingsAnswer,
  },
  {
    method: 'POST',
    path: '/settings',
    role: 'admin',
    handle: set,
    summary: 'Set one setting; in force in every process within seconds; audited old -> new.',
    body: settingSetRequest,
    answer: settingAnswer,
  },
  {
    method: 'POST',
    path: '/settings/reset',
    role: 'admin',
    handle: reset,
    summary: "Back to the configuration's value; audited old -> new.",
    body: settingResetRequest,
    answer: settingAnswer,
  },
];
