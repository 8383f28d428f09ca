import * as z from 'zod/mini';
import { kdfSchema } from './pickup.ts';

/**
 * The practitioner's console API's contract (docs/console.md): one set of schemas imported by the server
 * (webmail/console-api/) and the console app (webmail/console/src/lib/api.ts). Browser code: no Node module.
 * Requests are what the server parses (strict); answers are what the server builds and the app parses.
 */
export const codeIdSchema = z.string().check(z.regex(/^[A-Za-z0-9-]{1,64}$/));

// ---- requests ---------------------------------------------------------------------------------------

/** POST /api/console/session: her Sealpost address and password (the SMTP password). */
const totpCode = z.string().check(z.regex(/^[0-9]{6}$/));
export const signInRequest = z.strictObject({
  login: z.string().check(z.minLength(3), z.maxLength(254)),
  password: z.string().check(z.minLength(1), z.maxLength(1024)),
  /** Her TOTP code, when she turned the second factor on (else 401 CON_TOTP_REQUIRED). */
  totp: z.optional(totpCode),
});
export type SignInRequest = z.infer<typeof signInRequest>;

/** POST /api/console/totp/confirm: the first code from her authenticator app. */
export const totpRequest = z.strictObject({ totp: totpCode });

// ---- answers ----------------------------------------------------------------------------------------

/** Her console key: the private half locked by lockKey = Argon2id(password, kdf)[32..64]. */
export const consoleKeyAnswer = z.strictObject({
  lockId: z.string(),
  fingerprint: z.string(),
  lockedPrivateKey: z.base64(),
  kdf: kdfSchema,
});

/** Who is signed in: 'admin' sees the admin screens too (and signed in with TOTP). */
export const consoleUser = z.strictObject({ login: z.string(), role: z.enum(['user', 'admin']) });

export const signInAnswer = z.strictObject({
  user: consoleUser,
  session: z.strictObject({ key: z.string(), expiresAt: z.string() }),
  consoleKey: consoleKeyAnswer,
});
export type SignInAnswer = z.input<typeof signInAnswer>;

/** GET /api/console/session: the signed-in user. */
export const sessionAnswer = z.strictObject({ user: consoleUser });
export type SessionAnswer = z.input<typeof sessionAnswer>;

/** One access code waiting to be handed over: the code is OpenPGP to her console key (base64). */
export const waitingCode = z.strictObject({
  id: codeIdSchema,
  contact: z.string(),
  since: z.string(),
  /** false when it was encrypted to an earlier console key of hers (a password reset): unreadable. */
  readable: z.boolean(),
  ciphertext: z.base64(),
});
export const codesAnswer = z.strictObject({ codes: z.array(waitingCode) });
export type CodesAnswer = z.input<typeof codesAnswer>;
export type WaitingCode = z.infer<typeof waitingCode>;

/** POST /api/console/totp/begin: the secret as an otpauth:// URI and as a QR code (a PNG data: URL). */
export const totpBeginAnswer = z.strictObject({ uri: z.string(), qr: z.string() });
export type TotpBeginAnswer = z.input<typeof totpBeginAnswer>;

export const okAnswer = z.strictObject({ ok: z.literal(true) });

/** The error body of every refusal (core/codes/http.ts CONSOLE_HTTP_CODES). */
export const errorAnswer = z.object({ code: z.string(), message: z.string() });
