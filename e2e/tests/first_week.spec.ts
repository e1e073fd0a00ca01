import { test, expect, type Page } from '@playwright/test';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PASSWORD, STAFF, goViaNav, lastSegment, login, uniqueTag } from './helpers';

// The first week in a real clinic: a patient on a phone keeps the crisis help after a reload
// or the back button; a skipped item 9 reaches the clinician's home page; the chart reads
// well at phone width (no accessibility violations); and a nurse sets up two-factor sign-in
// with a code this test computes as an authenticator app would (RFC 6238).
test.describe.configure({ mode: 'serial' });

const tag = uniqueTag();
const name = `Mara Okafor ${tag}`;
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

/** Registers the patient (once) and sends a PHQ-9 link; returns the link's path. */
let patientId = '';
async function sendPhq9(page: Page): Promise<string> {
  await login(page, STAFF.coordinator);
  if (!patientId) {
    await goViaNav(page, 'Patients');
    await page.getByRole('link', { name: 'New patient', exact: true }).click();
    await page.getByLabel('Full name', { exact: true }).fill(name);
    await page.getByLabel('Date of birth', { exact: true }).fill('1979-04-12');
    await page.getByLabel('Phone', { exact: true }).fill('+1 555 010 7788');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForURL((url) => /^\/patients\/[^/]+$/.test(url.pathname));
    patientId = lastSegment(page.url());
  } else {
    await page.goto(`/patients/${patientId}`);
  }
  await page.getByLabel('Questionnaire', { exact: true }).selectOption({ label: 'PHQ-9' });
  await page.getByRole('button', { name: 'Send link', exact: true }).click();
  await expect(page.getByRole('status')).toContainText('Questionnaire link created');
  await goViaNav(page, 'Outbox');
  const message = page
    .getByRole('article')
    .filter({ has: page.getByRole('link', { name, exact: true }) })
    .first();
  const body = (await message.locator('pre').textContent()) ?? '';
  const link = body.match(/https?:\/\/\S+\/p\/[0-9a-f]{48}\b/);
  expect(link).not.toBeNull();
  return new URL(link![0]).pathname;
}

/** Answers items 1–8 with "Several days" and item 9 as given (or not at all). */
async function answer(page: Page, item9: string | null): Promise<void> {
  const groups = page.locator('form.questionnaire').getByRole('group');
  for (let i = 0; i < 8; i++) {
    await groups.nth(i).getByRole('radio', { name: 'Several days', exact: true }).check();
  }
  if (item9) await groups.nth(8).getByRole('radio', { name: item9, exact: true }).check();
  await groups.nth(9).getByRole('radio', { name: 'Somewhat difficult', exact: true }).check();
}

test.describe('patient on a phone', () => {
  test.use(PHONE);

  test('after a risky answer, a reload and the back button still show the crisis help', async ({
    browser,
  }) => {
    const staff = await browser.newPage();
    const path = await sendPhq9(staff);
    await staff.close();

    const page = await browser.newPage(PHONE);
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1 })).toContainText('PHQ-9');
    await answer(page, 'More than half the days');
    await page.getByRole('button', { name: /^Send/ }).first().click();
    await page.waitForURL((url) => url.pathname === `${path}/done`);
    const crisis = page.getByText('Please reach out now');
    await expect(crisis).toBeVisible();
    await expect(page.getByText(/988/).first()).toBeVisible();

    await page.reload();
    await expect(crisis).toBeVisible();
    await expect(page.locator('form')).toHaveCount(0);
    await page.goBack();
    await page.goto(path);
    await expect(page).toHaveURL((url) => url.pathname === `${path}/done`);
    await expect(page.getByText('Please reach out now')).toBeVisible();
    await page.close();
  });

  test('an old or unknown link still shows crisis help', async ({ page }) => {
    await page.goto(`/p/${'0'.repeat(48)}`);
    await expect(page.getByText(/988/).first()).toBeVisible();
  });

  test('a PHQ-9 sent with item 9 unanswered reaches the clinician', async ({ browser }) => {
    const staff = await browser.newPage();
    const path = await sendPhq9(staff);
    await staff.close();

    const page = await browser.newPage(PHONE);
    await page.goto(path);
    await answer(page, null);
    await page.getByRole('button', { name: /^Send/ }).first().click();
    // Asked to finish: the missing question is named at the top, with a jump link.
    await expect(page.getByText(/1 question still needs? an answer/)).toBeVisible();
    await page.getByRole('button', { name: 'Send as it is', exact: true }).click();
    await page.waitForURL((url) => url.pathname === `${path}/done`);
    await page.close();

    const clinician = await browser.newPage();
    await login(clinician, STAFF.prescriber);
    const alerts = clinician.getByRole('region', { name: 'Safety alerts', exact: true });
    const card = alerts
      .locator('div.card')
      .filter({ has: clinician.getByRole('link', { name, exact: true }) })
      .filter({ hasText: 'not answered' });
    await expect(card).toHaveCount(1);
    await expect(card).toContainText('PHQ-9 sent with item 9');
    await expect(card).toContainText('question 9: not answered');
    await expect(card.getByRole('link', { name: '+1 555 010 7788' })).toHaveAttribute(
      'href',
      'tel:+15550107788',
    );
    await clinician.close();
  });
});

test.describe('the chart at phone width', () => {
  test.use({ ...PHONE, bypassCSP: true });

  test('has no accessibility violations and its tables scroll from the keyboard', async ({
    page,
  }) => {
    await login(page, STAFF.prescriber);
    await page.goto(`/patients/${patientId}`);
    await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
    await page.addScriptTag({ content: readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8') });
    const result = await page.evaluate(async () => {
      // @ts-expect-error injected above
      const r = await window.axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v: { id: string; nodes: unknown[] }) => `${v.id} (${v.nodes.length})`);
    });
    expect(result).toEqual([]);
    const region = page.getByRole('region', { name: 'PHQ-9 responses', exact: true });
    await expect(region).toHaveAttribute('tabindex', '0');
  });
});

/** Decodes RFC 4648 base 32 (no padding). */
function base32(s: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of s.replace(/[\s=]/g, '').toUpperCase()) {
    bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  }
  const bytes: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The six-digit TOTP (HMAC-SHA-1, 30 s) for a time, as an authenticator app shows it. */
function totp(key: Buffer, atMs: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(atMs / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const n = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, '0');
}

test('a nurse sets up two-factor sign-in and then signs in with a code', async ({ page }) => {
  await login(page, STAFF.twoFactor);
  await page.goto('/account');
  await page.getByRole('link', { name: 'Set up two-factor sign-in' }).click();
  await expect(page.getByRole('img', { name: 'QR code to scan with your authenticator app' })).toBeVisible();
  const key = base32((await page.locator('#totp-key').textContent()) ?? '');
  expect(key.length).toBe(20);
  await page.getByLabel('Six-digit code from the app').fill(totp(key, Date.now()));
  await page.getByRole('button', { name: 'Turn on', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Your recovery codes' })).toBeVisible();
  await expect(page.locator('ul.recovery-codes li')).toHaveCount(10);
  await page.getByRole('button', { name: /Log out/ }).first().click();

  await page.goto('/login');
  await page.getByLabel('Email', { exact: true }).fill(STAFF.twoFactor);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.waitForURL((url) => url.pathname === '/login/code');
  await page.getByLabel('Code from your authenticator app').fill('000000');
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('That code is not right');
  // The next step's code: enrolment spent the current one.
  await page.getByLabel('Code from your authenticator app').fill(totp(key, Date.now() + 30_000));
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  await page.waitForURL((url) => url.pathname === '/');
  await expect(page.getByRole('heading', { name: 'Home', exact: true })).toBeVisible();
});
