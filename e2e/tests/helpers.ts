import { expect, type Locator, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';

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

/** A page section by its heading (a <section aria-labelledby> is a region). */
export function region(page: Page, heading: string | RegExp): Locator {
  return page.getByRole('region', { name: heading, exact: true });
}

/**
 * Runs axe-core on the page and lists each violation as "rule (count): first targets".
 * The test must use `bypassCSP: true`: the script is injected inline.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({
    content: readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'),
  });
  return page.evaluate(async () => {
    // @ts-expect-error injected above
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map(
      (v: { id: string; nodes: { target: string[] }[] }) =>
        `${v.id} (${v.nodes.length}): ${v.nodes
          .slice(0, 3)
          .map((n) => n.target.join(' '))
          .join(', ')}`,
    );
  });
}

// Screening steps, as screening.spec.ts takes them, for specs that need an eligible patient.

/** The coordinator registers a patient; returns the chart's id. */
export async function registerPatient(page: Page, fullName: string, dateOfBirth: string): Promise<string> {
  await login(page, STAFF.coordinator);
  await goViaNav(page, 'Patients');
  await page.getByRole('link', { name: 'New patient', exact: true }).click();
  await page.getByLabel('Full name', { exact: true }).fill(fullName);
  await page.getByLabel('Date of birth', { exact: true }).fill(dateOfBirth);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForURL((url) => /^\/patients\/[^/]+$/.test(url.pathname));
  return lastSegment(page.url());
}

/**
 * A nurse starts the screening and completes the intake: the checklist (answering "Yes" to the
 * items whose legend starts with one of `yesTo`, "No" to the rest), no current medications and
 * baseline vitals of 132/84. Returns the screening's path.
 */
export async function takeIntake(page: Page, patientId: string, yesTo: string[] = []): Promise<string> {
  await login(page, STAFF.nurse);
  await page.goto(`/patients/${patientId}`);
  await region(page, 'Screening').getByRole('button', { name: 'Start screening', exact: true }).click();
  await page.waitForURL((url) => url.pathname.startsWith('/screenings/'));
  const screeningPath = new URL(page.url()).pathname;

  const checklist = region(page, 'Medical and psychiatric checklist');
  const groups = checklist.getByRole('group');
  const n = await groups.count();
  for (let i = 0; i < n; i++) {
    const g = groups.nth(i);
    const legend = (await g.locator('legend').textContent()) ?? '';
    const answer = yesTo.some((y) => legend.startsWith(y)) ? 'Yes' : 'No';
    await g.getByRole('radio', { name: answer, exact: true }).check();
  }
  await checklist.getByRole('button', { name: 'Save checklist', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');

  const meds = region(page, 'Current medications');
  await meds.getByLabel('No current medications').check();
  await meds.getByRole('button', { name: 'Save medications', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');

  const vitals = region(page, 'Baseline vitals');
  await vitals.getByLabel('Systolic (mmHg)').fill('132');
  await vitals.getByLabel('Diastolic (mmHg)').fill('84');
  await vitals.getByRole('button', { name: 'Save vitals', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');
  await expect(page.getByText('Still unanswered')).toHaveCount(0);
  return screeningPath;
}

export interface Decision {
  /** "Eligible" or "Eligible with precautions" (the radio's label). */
  decision: string;
  /** Route checkbox labels, e.g. "Esketamine nasal spray". */
  routes: string[];
  rationale: string;
  /** Justification per relative contraindication: label prefix → text. */
  justifications?: Record<string, string>;
}

/** The prescriber signs the eligibility decision; the screening is then locked. */
export async function signDecision(page: Page, screeningPath: string, d: Decision): Promise<void> {
  await login(page, STAFF.prescriber);
  await page.goto(screeningPath);
  const decision = region(page, 'Eligibility decision');
  await decision.getByRole('radio', { name: d.decision, exact: true }).check();
  for (const route of d.routes) {
    await decision.getByRole('checkbox', { name: route }).check();
  }
  await decision.getByLabel('Rationale').fill(d.rationale);
  for (const [prefix, text] of Object.entries(d.justifications ?? {})) {
    await decision.getByLabel(new RegExp(`^Justification: ${prefix}`)).fill(text);
  }
  await decision.getByRole('button', { name: 'Sign decision', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('The decision is signed; the screening is locked.');
}

/** Today's date in the clinic's time zone (YYYY-MM-DD), as the calendar's "Today" link has it. */
export async function clinicToday(page: Page): Promise<string> {
  await page.goto('/calendar');
  const href = await page
    .getByRole('navigation', { name: 'Calendar' })
    .getByRole('link', { name: 'Today', exact: true })
    .getAttribute('href');
  const m = /date=(\d{4}-\d{2}-\d{2})/.exec(href ?? '');
  expect(m, `date in the calendar's Today link (${href})`).not.toBeNull();
  return m![1];
}

/** Adds days to a YYYY-MM-DD date (calendar arithmetic; no time zone involved). */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** The Monday of the (Monday-first) week a YYYY-MM-DD date falls in. */
export function mondayOf(date: string): string {
  const dow = new Date(`${date}T00:00:00Z`).getUTCDay(); // 0 = Sunday
  return addDays(date, -((dow + 6) % 7));
}
