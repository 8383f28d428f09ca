import { accountRoutes } from './account.ts';
import { adminUserRoutes } from './admin-users.ts';
import { adminAuditRoutes } from './admin-audit.ts';
import { adminContactRoutes } from './admin-contacts.ts';
import { adminKeyRoutes } from './admin-keys.ts';
import { adminSenderKeyRoutes } from './admin-sender-keys.ts';
import { adminPolicyRoutes } from './admin-policy.ts';
import { adminQueueRoutes } from './admin-queue.ts';
import { adminSettingsRoutes } from './admin-settings.ts';
import { codesRoutes } from './codes.ts';
import { codesReissueRoutes } from './codes-reissue.ts';
import { consoleRepliesRoutes } from './console-replies.ts';
import { enrolRoutes } from './enrol.ts';
import type { ConsoleRoute } from './routes.ts';
import { sentRoutes } from './sent.ts';
import { sessionRoutes } from './session.ts';
import { totpRoutes } from './totp.ts';

/**
 * Every route of the console API but sign-in (POST /session), in one table: index.ts mounts it behind the
 * session and role middleware; the security tests try every row (docs/console.md). A screen's routes live in
 * its own module and are listed here.
 */
export const CONSOLE_ROUTE_TABLE: readonly ConsoleRoute[] = [
  ...sessionRoutes,
  ...codesRoutes,
  ...totpRoutes,
  ...accountRoutes,
  ...codesReissueRoutes,
  ...sentRoutes,
  ...adminUserRoutes,
  ...adminPolicyRoutes,
  ...adminQueueRoutes,
  ...adminAuditRoutes,
  ...adminSettingsRoutes,
  ...adminContactRoutes,
  ...adminKeyRoutes,
  ...adminSenderKeyRoutes,
  ...consoleRepliesRoutes,
  ...enrolRoutes,
];

/** The table as the tests see it: full path, method, role. */
export const CONSOLE_ROUTES = CONSOLE_ROUTE_TABLE.map((r) => ({
  method: r.method,
  path: `/api/console${r.path}`,
  role: r.role,
}));
