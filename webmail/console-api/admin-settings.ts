import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { checkReadiness, databaseCheck, redisCheck } from '../../core/readiness.ts';
import type { SettingsAnswer } from '../contract/console-settings.ts';
import type { ConsoleRoute, RouteContext } from './routes.ts';

/**
 * Settings and health (docs/admin-console.md). The settings are the configuration the services read at
 * start (core/config.ts, environment or SEALPOST_CONFIG), shown read-only with their variable: changing
 * them is a restart with a new value, not a console action. Health: the database and Redis answer, the
 * relay's last delivery and last failed attempt (from the spool), the TLS certificate's expiry, queue depth.
 */
const DAY = 86_400_000;

function settings(c: RouteContext['deps']['config']): SettingsAnswer['settings'] {
  return [
    { key: 'practiceName', env: 'SEALPOST_PRACTICE_NAME', value: c.practiceName },
    { key: 'language', env: 'SEALPOST_PICKUP_LANGUAGE', value: c.pickup.language },
    { key: 'retentionDays', env: 'SEALPOST_PICKUP_RETENTION_DAYS', value: String(c.pickup.retentionDays) },
    { key: 'pickup', env: 'SEALPOST_PICKUP', value: c.pickup.enabled ? 'on' : 'off' },
    { key: 'discovery', env: 'SEALPOST_DISCOVERY', value: c.discovery.enabled ? 'on' : 'off' },
    { key: 'keyChange', env: 'SEALPOST_DISCOVERY_KEY_CHANGE', value: c.discovery.keyChange },
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
    settings: settings(deps.config),
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

export const adminSettingsRoutes: readonly ConsoleRoute[] = [
  { method: 'GET', path: '/settings', role: 'admin', handle: show },
];
