import { test, expect, type Locator, type Page } from '@playwright/test';
import { STAFF, goViaNav, lastSegment, login, uniqueTag } from './helpers';

// Measurement-based care: a coordinator sends a PHQ-9 link, the patient answers it
// on a phone (with a risk answer on item 9), the prescriber sees and acknowledges
// the safety alert, enters a follow-up PHQ-9 and reads the trajectory; the
// coordinator sees that questionnaires were completed but never the scores.
// The tests depend on each other and run in order; a failure skips the rest.
test.describe.configure({ mode: 'serial' });

const tag = uniqueTag();
const name = `Avery Lindqvist ${tag}`;
const email = `avery.${tag.toLowerCase()}@example.com`;
const dateOfBirth = '1985-09-23';
const actionNote = `Called the patient the same day; safety plan reviewed (${tag}).`;

const PHQ9_PREAMBLE =
  'Over the last 2 weeks, how often have you been bothered by any of the following problems?';
const FREQUENCY = ['Not at all', 'Several days', 'More than half the days', 'Nearly every day'];

// The patient's answers: items 1–8 "More than half the days" (2 each = 16) and
// item 9 "Several days" (1): total 17, and a "high" safety alert.
const BASELINE_TOTAL = 17;
// The prescriber's follow-up: only item 1 "Several days": total 1 (remission).
const FOLLOW_UP_TOTAL = 1;

let patientId = '';
/** Full patient link as it appears in the outbox message. */
let patientLink = '';

/** Path of the patient link, e.g. /p/0123…; the browser uses the configured baseURL. */
function linkPath(): string {
  return new URL(patientLink).pathname;
}

async function openChart(page: Page): Promise<void> {
  await page.goto(`/patients/${patientId}`);
  await expect(page.getByRole('heading', { name, level: 1, exact: true })).toBeVisible();
}

function questionnaires(page: Page): Locator {
  return page.getByRole('region', { name: 'Questionnaires', exact: true });
}

/** The questionnaire's question groups (one <fieldset> per item, legend = question). */
function questions(page: Page): Locator {
  return page.locator('form.questionnaire').getByRole('group');
}

async function choose(group: Locator, option: string): Promise<void> {
  await group.getByRole('radio', { name: option, exact: true }).check();
}

/** Clicks a submit button and waits for the page that the POST finally lands on (after a
 * redirect, the page redirected to). */
async function submitForm(page: Page, button: Locator) {
  const posted = page.waitForResponse(
    (r) => r.request().method() === 'POST' && r.request().resourceType() === 'document',
  );
  const loaded = page.waitForEvent('load');
  await button.click();
  const [response] = await Promise.all([posted, loaded]);
  const next = response.request().redirectedTo();
  return next ? (await next.response())! : response;
}

function submitQuestionnaire(page: Page, button: string) {
  return submitForm(page, page.getByRole('button', { name: button, exact: true }));
}

test.describe('measurement-based care', () => {
  test('coordinator registers a patient and sends a PHQ-9 link', async ({ page }) => {
    await login(page, STAFF.coordinator);
    await goViaNav(page, 'Patients');
    await page.getByRole('link', { name: 'New patient', exact: true }).click();
    await page.getByLabel('Full name', { exact: true }).fill(name);
    await page.getByLabel('Date of birth', { exact: true }).fill(dateOfBirth);
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForURL((url) => /^\/patients\/[^/]+$/.test(url.pathname));
    patientId = lastSegment(page.url());
    expect(patientId).not.toBe('');
    await expect(page.getByRole('heading', { name, level: 1, exact: true })).toBeVisible();

    const section = questionnaires(page);
    await expect(section).toBeVisible();
    await expect(
      section.getByRole('heading', { name: 'Send to the patient', exact: true }),
    ).toBeVisible();
    const instrument = section.getByLabel('Questionnaire', { exact: true });
    for (const option of ['PHQ-9', 'GAD-7', 'PHQ-2', 'QIDS-SR16', 'ASQ']) {
      await expect(instrument.getByRole('option', { name: option, exact: true })).toHaveCount(1);
    }
    const when = section.getByLabel('When', { exact: true });
    await expect(when.locator('option:checked')).toHaveText('Between sessions');

    await instrument.selectOption({ label: 'PHQ-9' });
    await section.getByRole('button', { name: 'Send link', exact: true }).click();
    await page.waitForURL((url) => url.pathname === `/patients/${patientId}`);
    await expect(page.getByRole('status')).toContainText('Questionnaire link created');

    const sent = questionnaires(page).getByRole('table', { name: 'Links sent' });
    await expect(sent).toBeVisible();
    await expect(sent.getByRole('row').filter({ hasText: 'PHQ-9' })).toHaveCount(1);
    await expect(sent.getByRole('row').filter({ hasText: 'PHQ-9' })).toContainText(
      /waiting.*expires/,
    );
  });

  test('coordinator finds the message with the patient link in the outbox', async ({
    page,
    baseURL,
  }) => {
    await login(page, STAFF.coordinator);
    await goViaNav(page, 'Outbox');

    const message = page
      .getByRole('article')
      .filter({ has: page.getByRole('link', { name, exact: true }) });
    await expect(message).toHaveCount(1);
    await expect(message.getByRole('heading', { level: 2 })).toHaveText(
      /: a short questionnaire for you$/,
    );
    // Email is not configured in e2e: the message waits to be sent by hand.
    await expect(message.getByText('to send by hand', { exact: true })).toBeVisible();
    await expect(message.getByText(email)).toBeVisible();

    const body = (await message.locator('pre').textContent()) ?? '';
    const match = body.match(/https?:\/\/\S+\/p\/[0-9a-f]{48}\b/);
    expect(match, `patient link in the outbox message:\n${body}`).not.toBeNull();
    patientLink = match![0];
    // The link points at this server, so the patient can actually open it.
    expect(new URL(patientLink).origin).toBe(new URL(baseURL!).origin);
  });

  test.describe('patient on a phone', () => {
    test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

    test('opens the link without logging in and is asked to finish an incomplete form', async ({
      page,
    }) => {
      const response = await page.goto(linkPath());
      expect(response?.status()).toBe(200);
      expect(new URL(page.url()).pathname).toBe(linkPath());
      await expect(page.getByRole('heading', { name: 'PHQ-9', level: 1, exact: true })).toBeVisible();
      await expect(page.getByText(PHQ9_PREAMBLE)).toBeVisible();

      const items = questions(page);
      // Nine questions and the closing "how difficult" question.
      await expect(items).toHaveCount(10);
      await expect(items.nth(0).locator('legend')).toHaveText(
        'Little interest or pleasure in doing things',
      );
      await expect(items.nth(8).locator('legend')).toHaveText(
        /^Thoughts that you would be better off dead/,
      );
      for (let i = 0; i < 9; i++) {
        for (const option of FREQUENCY) {
          await expect(items.nth(i).getByRole('radio', { name: option, exact: true })).toHaveCount(1);
        }
      }
      await expect(
        items.nth(9).getByRole('radio', { name: 'Not difficult at all', exact: true }),
      ).toHaveCount(1);
      // No staff navigation for the patient.
      await expect(page.getByRole('link', { name: 'Patients', exact: true })).toHaveCount(0);

      // The questionnaire fits the phone's width (no sideways scrolling).
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - window.innerWidth,
      );
      expect(overflow).toBeLessThanOrEqual(0);

      // Answer only the first four questions, none of them about risk (items 5–9
      // stay open; the closing "how difficult" question is not scored).
      for (let i = 0; i < 4; i++) await choose(items.nth(i), 'More than half the days');
      const incomplete = await submitQuestionnaire(page, 'Send my answers');
      expect(incomplete.status()).toBe(422);

      await expect(page.getByRole('heading', { name: 'PHQ-9', level: 1, exact: true })).toBeVisible();
      await expect(page.getByRole('alert')).toContainText('5 questions still need an answer');
      await expect(page.getByRole('button', { name: 'Send as it is', exact: true })).toBeVisible();
      // The answers given so far are kept.
      for (let i = 0; i < 4; i++) {
        await expect(
          items.nth(i).getByRole('radio', { name: 'More than half the days', exact: true }),
        ).toBeChecked();
      }
      await expect(page.getByRole('heading', { name: 'Thank you' })).toHaveCount(0);
    });

    test('answers item 9 above "Not at all" and sees crisis resources at once; the link then works only once', async ({
      page,
      context,
    }) => {
      await page.goto(linkPath());
      await expect(page.getByRole('heading', { name: 'PHQ-9', level: 1, exact: true })).toBeVisible();
      // A second tab with the same questionnaire open, to try sending twice.
      const secondTab = await context.newPage();
      await secondTab.goto(linkPath());
      await expect(
        secondTab.getByRole('heading', { name: 'PHQ-9', level: 1, exact: true }),
      ).toBeVisible();

      const items = questions(page);
      for (let i = 0; i < 8; i++) await choose(items.nth(i), 'More than half the days');
      await choose(items.nth(8), 'Several days');
      await choose(items.nth(9), 'Somewhat difficult');

      const sent = await submitQuestionnaire(page, 'Send my answers');
      expect(sent.status()).toBe(200);
      await expect(page.getByRole('heading', { name: 'Thank you', exact: true })).toBeVisible();
      const crisis = page.getByRole('alert').filter({
        has: page.getByRole('heading', { name: 'Please reach out now', exact: true }),
      });
      await expect(crisis).toBeVisible();
      await expect(crisis).toContainText('988');
      // Shown at the top, without scrolling, on the phone.
      await expect(crisis.getByRole('heading', { name: 'Please reach out now' })).toBeInViewport();

      // A reload keeps the crisis help on screen.
      await page.reload();
      await expect(crisis).toBeVisible();
      await expect(crisis).toContainText('988');

      // Opening the link again (the back button, an old tab): the thank-you page with its
      // crisis help, never the questionnaire again.
      const again = await page.goto(linkPath());
      expect(again?.status()).toBe(200);
      expect(new URL(page.url()).pathname).toBe(`${linkPath()}/done`);
      await expect(crisis).toBeVisible();
      await expect(page.getByRole('button', { name: 'Send my answers' })).toHaveCount(0);

      // Sending the same questionnaire again from the other tab stores nothing: it lands on the
      // same thank-you page (the prescriber later sees one response, not two).
      const secondItems = questions(secondTab);
      for (let i = 0; i < 9; i++) await choose(secondItems.nth(i), 'Not at all');
      await choose(secondItems.nth(9), 'Not difficult at all');
      const resent = await submitQuestionnaire(secondTab, 'Send my answers');
      expect(resent.status()).toBe(200);
      await expect(
        secondTab.getByRole('heading', { name: 'Please reach out now', exact: true }),
      ).toBeVisible();
      await secondTab.close();
    });
  });

  test('prescriber sees the safety alert on the home page and must write a note to acknowledge it', async ({
    page,
  }) => {
    await login(page, STAFF.prescriber);
    const alerts = page.getByRole('region', { name: 'Safety alerts', exact: true });
    await expect(alerts).toBeVisible();
    const alert = alerts
      .locator('div.card')
      .filter({ has: page.getByRole('link', { name, exact: true }) });
    await expect(alert).toHaveCount(1);
    await expect(alert.locator('.badge').first()).toHaveText('High');
    await expect(alert.getByText(/PHQ-9 item 9/)).toBeVisible();
    await expect(alert.getByRole('link', { name, exact: true })).toHaveAttribute(
      'href',
      new RegExp(`^/patients/${patientId}(#alerts)?$`),
    );

    // Without a note the browser refuses to submit.
    const note = alert.getByLabel('Action note', { exact: true });
    await expect(note).toHaveValue('');
    await alert.getByRole('button', { name: 'Acknowledge', exact: true }).click();
    expect(await note.evaluate((el: HTMLTextAreaElement) => el.validity.valueMissing)).toBe(true);
    await expect(page).toHaveURL((url) => url.pathname === '/');
    await expect(page.getByRole('status')).toHaveCount(0);
    await expect(alert).toHaveCount(1);

    await note.fill(actionNote);
    const acknowledged = await submitForm(
      page,
      alert.getByRole('button', { name: 'Acknowledge', exact: true }),
    );
    expect(acknowledged.status()).toBeLessThan(400);
    await expect(page).toHaveURL((url) => url.pathname === '/');
    await expect(page.getByRole('heading', { name: 'Home', level: 1, exact: true })).toBeVisible();
    // Soft, so the rest of the acknowledgement is still checked if the notice is missing.
    await expect.soft(page.getByRole('status')).toHaveText('Alert acknowledged.');
    await expect(
      page
        .getByRole('region', { name: 'Safety alerts', exact: true })
        .getByRole('link', { name, exact: true }),
    ).toHaveCount(0);

    // The chart keeps the acknowledgement with the note.
    await openChart(page);
    const chartAlerts = page.getByRole('region', { name: 'Safety alerts', exact: true });
    await expect(chartAlerts).toBeVisible();
    await expect(chartAlerts.getByText('High', { exact: true })).toBeVisible();
    await expect(chartAlerts).toContainText('PHQ-9 item 9');
    await expect(chartAlerts).toContainText('Acknowledged by Priya Prescriber');
    await expect(chartAlerts).toContainText(actionNote);
    await expect(chartAlerts.getByRole('button', { name: 'Acknowledge' })).toHaveCount(0);
  });

  test('prescriber enters a follow-up PHQ-9 and reads the trajectory on the chart', async ({
    page,
  }) => {
    await login(page, STAFF.prescriber);
    await openChart(page);

    // Before the follow-up: one response, so no outcome line yet.
    const phq9 = questionnaires(page).getByRole('region', { name: 'PHQ-9', exact: true });
    await expect(phq9).toBeVisible();
    await expect(phq9.getByRole('table', { name: /^PHQ-9 responses/ }).locator('tbody tr')).toHaveCount(1);
    await expect(phq9.getByText(/^Baseline \d+/)).toHaveCount(0);

    await page.getByLabel('Enter a response', { exact: true }).selectOption({ label: 'PHQ-9' });
    await page.getByRole('button', { name: 'Enter', exact: true }).click();
    await page.waitForURL(
      (url) =>
        url.pathname === `/patients/${patientId}/responses/new` &&
        url.searchParams.get('instrument') === 'phq9',
    );
    await expect(
      page.getByRole('heading', { name: `PHQ-9 for ${name}`, level: 1, exact: true }),
    ).toBeVisible();
    await expect(page.getByLabel('When', { exact: true })).toBeVisible();

    const items = questions(page);
    await expect(items).toHaveCount(10);
    // Staff entry is compact: each option shows its value beside its words.
    await choose(
      page.getByRole('group', { name: '1. Little interest or pleasure in doing things', exact: true }),
      '1 — Several days',
    );
    for (let i = 1; i < 9; i++) await choose(items.nth(i), '0 — Not at all');
    await choose(items.nth(9), '0 — Not difficult at all');
    await page.getByRole('button', { name: 'Save response', exact: true }).click();
    await page.waitForURL((url) => url.pathname === `/patients/${patientId}`);
    await expect(page.getByRole('status')).toHaveText('Response saved.');

    const section = questionnaires(page);
    const trajectory = section.getByRole('region', { name: 'PHQ-9', exact: true });
    await expect(trajectory.getByRole('heading', { name: 'PHQ-9', level: 3, exact: true })).toBeVisible();
    await expect(trajectory.getByRole('img', { name: 'PHQ-9 over time', exact: true })).toBeVisible();
    const change = FOLLOW_UP_TOTAL - BASELINE_TOTAL;
    const outcome = trajectory.getByText(/^Baseline \d+, latest \d+, change/);
    await expect(outcome).toHaveText(
      new RegExp(
        `^Baseline ${BASELINE_TOTAL}, latest ${FOLLOW_UP_TOTAL}, change [-−]${Math.abs(change)}$`,
      ),
    );
    await expect(trajectory.locator('.outcome .badge')).toHaveText('remission');

    const table = trajectory.getByRole('table', { name: /^PHQ-9 responses/ });
    await expect(table).toBeVisible();
    const rows = table.locator('tbody tr');
    await expect(rows).toHaveCount(2);
    // Newest first: the prescriber's follow-up, then the patient's baseline.
    await expect(rows.nth(0).getByRole('cell').nth(1)).toHaveText(String(FOLLOW_UP_TOTAL));
    await expect(rows.nth(0).getByRole('cell').nth(2)).toHaveText(/minimal/i);
    await expect(rows.nth(0)).toContainText('Priya Prescriber');
    await expect(rows.nth(1).getByRole('cell').nth(1)).toHaveText(String(BASELINE_TOTAL));
    await expect(rows.nth(1).getByRole('cell').nth(2)).toHaveText(/moderately severe/i);

    // The follow-up raised no new alert.
    await page.goto('/');
    await expect(
      page
        .getByRole('region', { name: 'Safety alerts', exact: true })
        .getByRole('link', { name, exact: true }),
    ).toHaveCount(0);
  });

  test('coordinator sees that questionnaires were completed but no scores or alerts', async ({
    page,
  }) => {
    await login(page, STAFF.coordinator);
    await expect(page.getByRole('heading', { name: 'Safety alerts' })).toHaveCount(0);

    await openChart(page);
    const section = questionnaires(page);
    await expect(section).toBeVisible();
    await expect(section.getByRole('listitem').filter({ hasText: /^PHQ-9 completed/ })).toHaveCount(2);

    // No scores, chart, answers or alerts.
    await expect(page.getByRole('heading', { name: 'Safety alerts' })).toHaveCount(0);
    await expect(page.getByText(/PHQ-9 item 9/)).toHaveCount(0);
    await expect(page.getByText(actionNote)).toHaveCount(0);
    await expect(page.getByRole('img', { name: 'PHQ-9 over time' })).toHaveCount(0);
    await expect(section.getByRole('table', { name: /^PHQ-9 responses/ })).toHaveCount(0);
    await expect(page.getByText(/Baseline \d+, latest/)).toHaveCount(0);
    await expect(page.getByText(/moderately severe|remission/i)).toHaveCount(0);
    await expect(page.getByLabel('Enter a response')).toHaveCount(0);

    // Sending is still allowed, and the used link is no longer waiting.
    await expect(section.getByRole('button', { name: 'Send link', exact: true })).toBeVisible();
    const sent = section.getByRole('table', { name: 'Links sent' }).getByRole('row').filter({ hasText: 'PHQ-9' });
    await expect(sent).toHaveCount(1);
    await expect(sent).not.toContainText('waiting');
  });
});
