import { test, expect, type Page } from '@playwright/test';
import { STAFF, axeViolations, goViaNav, login, registerPatient, region, uniqueTag } from './helpers';

// Check-ins between sessions: a coordinator sends a check-in link from the chart and finds it
// in the outbox; the patient opens it on a phone, forgets the mood (the form comes back as
// typed), then sends it reporting urinary symptoms and is told the care team was alerted; the
// link then cannot be used again. The nurse sees the check-in flagged on the home page and on
// the review list, opens it and marks it seen with a note. The new pages have no axe
// violations at phone and desktop widths.
test.describe.configure({ mode: 'serial' });
test.use({ bypassCSP: true }); // axe is injected as an inline script

const tag = uniqueTag();
const NAME = `Ines Okafor ${tag}`;
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };
const URINARY = /^Pain or burning when passing urine/;
const JOURNAL = `Stinging since Tuesday (${tag}).`;

let patientId = '';
/** The patient's link path, /k/…. */
let linkPath = '';

async function noAxeViolations(page: Page, where: string): Promise<void> {
  expect(await axeViolations(page), where).toEqual([]);
}

/** Runs axe at a phone's width and at a desktop's. */
async function noAxeViolationsAtBothWidths(page: Page, where: string): Promise<void> {
  for (const size of [PHONE, DESKTOP]) {
    await page.setViewportSize(size);
    await noAxeViolations(page, `${where} at ${size.width}px`);
  }
}

test('the coordinator sends a check-in link from the chart and finds it in the outbox', async ({
  page,
  baseURL,
}) => {
  patientId = await registerPatient(page, NAME, '1981-04-12');
  const panel = region(page, 'Check-ins between sessions');
  await expect(panel).toBeVisible();
  // A coordinator sends links but reads no answers: no check-in table for them.
  await expect(panel.getByRole('table', { name: 'Recent check-ins' })).toHaveCount(0);
  await panel.getByLabel('Valid for (days)').fill('3');
  await panel.getByRole('button', { name: 'Send check-in link', exact: true }).click();
  await expect(page.getByRole('status')).toContainText('Check-in link created');
  await expect(
    region(page, 'Check-ins between sessions').getByRole('table', { name: 'Check-in links sent' }),
  ).toContainText('waiting');
  await noAxeViolationsAtBothWidths(page, 'chart with the check-ins panel');

  await goViaNav(page, 'Outbox');
  const message = page
    .getByRole('article')
    .filter({ has: page.getByRole('link', { name: NAME, exact: true }) });
  await expect(message).toHaveCount(1);
  await expect(message.getByRole('heading', { level: 2 })).toHaveText(
    /: how have you been since your last session\?$/,
  );
  const body = (await message.locator('pre').textContent()) ?? '';
  const match = body.match(/https?:\/\/\S+\/k\/[0-9a-f]{48}\b/);
  expect(match, `check-in link in the outbox message:\n${body}`).not.toBeNull();
  expect(new URL(match![0]).origin).toBe(new URL(baseURL!).origin);
  linkPath = new URL(match![0]).pathname;
});

test.describe('the patient on a phone', () => {
  test.use({ viewport: PHONE, isMobile: true, hasTouch: true });

  test('sends a check-in reporting urinary symptoms and is told the care team was alerted', async ({
    page,
  }) => {
    const opened = await page.goto(linkPath);
    expect(opened?.status()).toBe(200);
    await expect(page.getByRole('heading', { name: 'How have you been?', level: 1 })).toBeVisible();
    await expect(page.getByText(NAME)).toHaveCount(0);
    await expect(page.getByRole('link', { name: 'Patients', exact: true })).toHaveCount(0);
    // The form fits the phone's width.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await noAxeViolations(page, 'check-in form on a phone');

    // Forgets the mood: the form comes back as typed, with the problem named.
    await page.getByRole('checkbox', { name: URINARY }).check();
    await page.getByLabel('Anything you want to write down').fill(JOURNAL);
    await page.getByRole('button', { name: 'Send my check-in', exact: true }).click();
    await expect(page.getByRole('alert')).toContainText('Choose a number from 0 to 10 for your mood today.');
    await expect(page.getByRole('checkbox', { name: URINARY })).toBeChecked();
    await expect(page.getByLabel('Anything you want to write down')).toHaveValue(JOURNAL);
    await noAxeViolations(page, 'check-in form with problems on a phone');

    const mood = page.getByRole('group', { name: 'Your mood today, from 0 to 10' });
    await mood.getByRole('radio', { name: '4', exact: true }).check();
    await page.getByLabel('Hours slept').fill('6.5');
    await page.getByRole('radio', { name: 'Fair', exact: true }).check();
    await page.getByRole('button', { name: 'Send my check-in', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Thank you', level: 1 })).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Your care team has been told' })).toBeVisible();
    await noAxeViolationsAtBothWidths(page, 'check-in thank-you page');
  });

  test('a reused link shows the page that says it cannot be used', async ({ page }) => {
    const again = await page.goto(linkPath);
    expect(again?.status()).toBe(410);
    await expect(page.getByRole('heading', { name: 'This link cannot be used', level: 1 })).toBeVisible();
    await expect(page.getByRole('heading', { name: 'If you need help now' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Send my check-in' })).toHaveCount(0);
    await noAxeViolations(page, 'gone page on a phone');
  });
});

test('the nurse sees the check-in flagged, opens it and marks it seen', async ({ page }) => {
  await page.setViewportSize(DESKTOP);
  await login(page, STAFF.nurse);
  const home = region(page, 'Check-ins');
  await expect(home).toContainText('not seen yet');
  const flagged = home.getByRole('listitem').filter({ hasText: NAME });
  await expect(flagged).toContainText('Flagged: High');
  await expect(flagged).toContainText('Urinary symptoms');
  // The safety alert on the home page leads to the check-in too.
  const alert = region(page, 'Safety alerts')
    .locator('.card')
    .filter({ has: page.getByRole('link', { name: NAME, exact: true }) });
  await expect(alert).toContainText('Side effect reported in a check-in');
  await expect(alert.getByRole('link', { name: 'Open the check-in' })).toBeVisible();

  await home.getByRole('link', { name: 'All check-ins', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Check-ins', level: 1 })).toBeVisible();
  const row = page.getByRole('row').filter({ hasText: NAME });
  await expect(row).toContainText('Urinary symptoms');
  await expect(row).toContainText('Flagged');
  await expect(row).toContainText('Not seen');
  await noAxeViolationsAtBothWidths(page, 'check-ins list');
  await page.setViewportSize(DESKTOP);

  await row.getByRole('link', { name: NAME, exact: true }).click();
  await expect(page.getByRole('heading', { name: `Check-in from ${NAME}`, level: 1 })).toBeVisible();
  const answers = region(page, 'Answers');
  await expect(answers).toContainText('4 of 10');
  await expect(answers).toContainText('6.5 hours, fair');
  await expect(answers).toContainText('Urinary symptoms');
  await expect(answers).toContainText(JOURNAL);
  await expect(region(page, 'Alerts')).toContainText('Side effect reported in a check-in');
  await noAxeViolationsAtBothWidths(page, 'check-in page');
  await page.setViewportSize(DESKTOP);

  const review = region(page, 'Review');
  await review.getByLabel('Note').fill('Called: urine sample and test booked for tomorrow.');
  await review.getByRole('button', { name: 'Mark seen', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Marked seen.');
  await expect(region(page, 'Review')).toContainText('Seen by Nina Nurse');
  await expect(region(page, 'Review')).toContainText('Called: urine sample and test booked for tomorrow.');
  await expect(page.getByRole('button', { name: 'Mark seen' })).toHaveCount(0);

  // On the chart: the check-in in the table, seen.
  await page.goto(`/patients/${patientId}`);
  const panel = region(page, 'Check-ins between sessions');
  await expect(panel.getByRole('table', { name: 'Recent check-ins' })).toContainText('Seen');
  await noAxeViolations(page, 'chart with the check-ins panel, as a clinician');
});
