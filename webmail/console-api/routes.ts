import type { Request, Response } from 'express';
import type { $ZodType } from 'zod/v4/core';
import type { ConsoleApiDeps } from './deps.ts';

/**
 * The console API's route table (docs/console.md): every route under /api/console but sign-in is one row —
 * method, path, the role it needs and its handler. One middleware (index.ts) checks the session and the role
 * of every row; the security tests are generated from the same table (CONSOLE_ROUTES in table.ts), so a new
 * row is tried against no session, another user's session, the wrong role and a cross-origin POST.
 */
export type ConsoleRole = 'user' | 'admin';

/** The signed-in user of a request: every query of a 'user' route is bound to `id`. */
export interface SignedIn {
  readonly id: string;
  readonly login: string;
  readonly admin: boolean;
  /** SHA-256 of the session secret (the session's row). */
  readonly hash: string;
}

export interface RouteContext {
  readonly deps: ConsoleApiDeps;
  readonly req: Request;
  readonly res: Response;
  readonly user: SignedIn;
  /** One content-free audit entry: who (the signed-in login), what, on what, when, from which IP. */
  audit(action: string, subject?: string): Promise<void>;
}

export interface ConsoleRoute {
  readonly method: 'GET' | 'POST';
  /** Express path under /api/console, e.g. `/codes/:id/handed-over`. */
  readonly path: string;
  /** 'user': any signed-in user, her own data only; 'admin': the admin role (which signs in with TOTP). */
  readonly role: ConsoleRole;
  readonly handle: (ctx: RouteContext) => Promise<void>;
  /** One line for docs/console-api.md (`npm run docs:api`); test/unit/console-api-doc.test.ts requires it. */
  readonly summary?: string;
  /**
   * The zod schemas the handler parses its JSON body and query with and answers with — the same objects
   * from webmail/contract/ (never a second copy); docs/console-api.md shows them as JSON Schema.
   */
  readonly body?: $ZodType;
  readonly query?: $ZodType;
  readonly answer?: $ZodType;
}
