import type { Page } from 'playwright-core';
import type { Stack } from './stack.ts';

/**
 * An admin of the console for the admin screens' tests: made directly in the users store with the admin
 * role, and signed in through the sign-in screen. The sign-in is this one function so that the TOTP step
 * admins need (issue 14) is added in one place.
 */
export const ADMIN = 'admin@praxis.example';
export const ADMIN_PASSWORD = 'admin-horse-battery-staple';

export async function makeAdmin(stack: Stack): Promise<void> {
  await stack.gw.users.add({ login: ADMIN, password: ADMIN_PASSWORD, isAdmin: true }, new Date());
}

/** Open `/console<path>` (a deep link shows the sign-in first), sign in as the admin, wait for the screen. */
export async function signInAdmin(page: Page, stack: Stack, path: string, heading: RegExp): Promise<void> {
  await page.goto(`${stack.web}/console${path}`);
  await page.locator('input[autocomplete="username"]').fill(ADMIN);
  await page.locator('input[autocomplete="current-password"]').fill(ADMIN_PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: heading }).first().waitFor({ timeout: 60_000 });
}
