import { expect, type Locator, type Page } from '@playwright/test';

/** Password that start-server.sh gives every staff account. */
export const PASSWORD = 'correct horse battery staple';

export const STAFF = {
  admin: 'admin@e2e.test',
  coordinator: 'coordinator@e2e.test',
  therapist: 'therapist@e2e.test',
  prescriber: 'prescriber@e2e.test',
  nurse: 'nurse@e2e.test',
  /** Sets up two-factor sign-in in its own test; no other test uses it. */
  twoFactor: 'twofactor@e2e.test',
} as const;

/** Letters-only tag, unique per run, so names pass any "looks like a name" check. */
export function uniqueTag(): string {
  let n = Date.now() * 1000 + Math.floor(Math.random() * 1000);
  let s = '';
  while (n > 0) {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26);
  }
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Logs in through the form and waits for the staff home page. */
export async function login(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.waitForURL((url) => url.pathname === '/');
  await expect(page.getByRole('heading', { name: 'Home', exact: true })).toBeVisible();
}

/** The staff navigation bar (the <nav> that holds the "Patients" link). */
export function staffNav(page: Page): Locator {
  return page
    .getByRole('navigation')
    .filter({ has: page.getByRole('link', { name: 'Patients', exact: true }) })
    .first();
}

export async function goViaNav(page: Page, linkName: string): Promise<void> {
  await staffNav(page).getByRole('link', { name: linkName, exact: true }).click();
  await expect(page.getByRole('heading', { name: linkName, exact: true })).toBeVisible();
}

/** Path part of a URL such as /patients/123 → "123". */
export function lastSegment(url: string): string {
  const parts = new URL(url).pathname.split('/').filter(Boolean);
  return decodeURIComponent(parts[parts.length - 1] ?? '');
}
