import { test, expect, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { STAFF, goViaNav, lastSegment, login, uniqueTag } from './helpers';

// Screening: a coordinator registers a patient; a nurse starts the screening, answers the
// checklist (one relative contraindication), records no medications and the vitals (a typing
// slip is refused and kept); the prescriber sees the finding with its reason and source, is
// refused "eligible", writes the justification and signs "eligible with precautions"; the
// screening is then locked and the chart shows the decision. Then consent: an administrator
// publishes the IV consent document, the coordinator sends a consent link, and the patient
// reads and signs it on a phone-sized page; the chart shows what was consented to.
test.describe.configure({ mode: 'serial' });

const tag = uniqueTag();
const name = `Ines Valdez ${tag}`;
let patientId = '';
let screeningPath = '';
let consentPath = '';
let rescreenPath = '';
let historyPath = '';

async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({
    content: readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'),
  });
  return page.evaluate(async () => {
    // @ts-expect-error injected above
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v: { id: string; nodes: unknown[] }) => `${v.id} (${v.nodes.length})`);
  });
}

async function section(page: Page, heading: string) {
  return page.getByRole('region', { name: heading, exact: true });
}

test('coordinator registers the patient', async ({ page }) => {
  await login(page, STAFF.coordinator);
  await goViaNav(page, 'Patients');
  await page.getByRole('link', { name: 'New patient', exact: true }).click();
  await page.getByLabel('Full name', { exact: true }).fill(name);
  await page.getByLabel('Date of birth', { exact: true }).fill('1988-06-30');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForURL((url) => /^\/patients\/[^/]+$/.test(url.pathname));
  patientId = lastSegment(page.url());
  // Coordinators do not see screenings.
  await expect(page.getByRole('region', { name: 'Screening', exact: true })).toHaveCount(0);
});

test('nurse takes the intake', async ({ page }) => {
  await login(page, STAFF.nurse);
  await page.goto(`/patients/${patientId}`);
  const panel = await section(page, 'Screening');
  await expect(panel).toContainText('Not screened yet.');
  await panel.getByRole('button', { name: 'Start screening', exact: true }).click();
  await page.waitForURL((url) => url.pathname.startsWith('/screenings/'));
  screeningPath = new URL(page.url()).pathname;
  await expect(page.getByText('Still unanswered')).toBeVisible();

  const checklist = await section(page, 'Medical and psychiatric checklist');
  const groups = checklist.getByRole('group');
  const n = await groups.count();
  for (let i = 0; i < n; i++) {
    const g = groups.nth(i);
    const legend = (await g.locator('legend').textContent()) ?? '';
    const answer = legend.startsWith('Cardiovascular disease') ? 'Yes' : 'No';
    await g.getByRole('radio', { name: answer, exact: true }).check();
  }
  await checklist.getByRole('button', { name: 'Save checklist', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');

  const meds = await section(page, 'Current medications');
  await meds.getByLabel('No current medications').check();
  await meds.getByRole('button', { name: 'Save medications', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');

  const vitals = await section(page, 'Baseline vitals');
  await vitals.getByLabel('Systolic (mmHg)').fill('13');
  await vitals.getByLabel('Diastolic (mmHg)').fill('84');
  await vitals.getByRole('button', { name: 'Save vitals', exact: true }).click();
  await expect(page.getByText('Enter the systolic pressure (mmHg) as a whole number from 50 to 300.')).toBeVisible();
  await expect((await section(page, 'Baseline vitals')).getByLabel('Systolic (mmHg)')).toHaveValue('13');
  await (await section(page, 'Baseline vitals')).getByLabel('Systolic (mmHg)').fill('132');
  await (await section(page, 'Baseline vitals')).getByRole('button', { name: 'Save vitals', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');
  await expect(page.getByText('Still unanswered')).toHaveCount(0);
  // Nurses take the intake; they do not decide.
  await expect(page.getByRole('button', { name: 'Sign decision' })).toHaveCount(0);
});

test('prescriber justifies the relative contraindication and signs', async ({ page }) => {
  await login(page, STAFF.prescriber);
  await page.goto(screeningPath);
  const findings = await section(page, 'What the rules find');
  await expect(findings).toContainText('Relative contraindication');
  await expect(findings).toContainText('Cardiovascular disease');
  await expect(findings).toContainText('clinical.md §3.1');

  const decision = await section(page, 'Eligibility decision');
  await decision.getByRole('radio', { name: 'Eligible', exact: true }).check();
  await decision.getByRole('checkbox', { name: 'IV infusion' }).check();
  await decision.getByLabel('Rationale').fill('Screened in clinic; patient prefers IV.');
  await decision.getByRole('button', { name: 'Sign decision', exact: true }).click();
  await expect(page.getByText(/needs a written justification/).first()).toBeVisible();
  await expect(page.getByLabel('Rationale')).toHaveValue('Screened in clinic; patient prefers IV.');

  const again = await section(page, 'Eligibility decision');
  await again.getByRole('radio', { name: 'Eligible with precautions', exact: true }).check();
  await again
    .getByLabel(/^Justification: Cardiovascular disease/)
    .fill('Stable, treated hypertension only; cardiology review in May; monitor BP closely.');
  await again.getByRole('button', { name: 'Sign decision', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('The decision is signed; the screening is locked.');
  await expect(page.getByText('Signed and locked.', { exact: false })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Save vitals' })).toHaveCount(0);

  await page.goto(`/patients/${patientId}`);
  await expect(await section(page, 'Screening')).toContainText('Eligible with precautions');
});

test('administrator publishes the IV consent document', async ({ page }) => {
  await login(page, STAFF.admin);
  await goViaNav(page, 'Staff');
  await page.getByRole('link', { name: 'Consent documents', exact: true }).click();
  const iv = await section(page, 'IV infusion');
  const details = iv.locator('details');
  if ((await details.getAttribute('open')) === null) {
    await iv.locator('summary').click();
  }
  await iv.getByLabel('Title').fill('Ketamine by IV infusion: consent to treatment');
  await iv.getByLabel('Text').fill('Too short.');
  await iv.getByRole('button', { name: /^Publish/ }).click();
  await expect(page.getByText(/The text must be 100 to 50000 characters long/)).toBeVisible();
  const again = await section(page, 'IV infusion');
  await again
    .getByLabel('Text')
    .fill(
      'You are invited to receive ketamine by intravenous infusion as part of ketamine-assisted psychotherapy.\n\n' +
        'During an infusion you may feel detached, dizzy or sick, and your blood pressure may rise. ' +
        'You may stop at any time without affecting the rest of your care.',
    );
  await again.getByRole('button', { name: /^Publish/ }).click();
  await expect(page.getByRole('status')).toHaveText(
    'The new version is published. Patients sign it from now on.',
  );
  await expect(await section(page, 'IV infusion')).toContainText(/Current: Ketamine by IV infusion: consent to treatment, version \d+/);
});

test('coordinator sends the consent link and finds it in the outbox', async ({ page }) => {
  await login(page, STAFF.coordinator);
  await page.goto(`/patients/${patientId}`);
  const consent = await section(page, 'Consent');
  await expect(consent).toContainText('Not signed');
  await consent.getByRole('button', { name: 'Send a consent link: IV infusion' }).click();
  await expect(page.getByRole('status')).toContainText('Consent link created');
  await goViaNav(page, 'Outbox');
  const message = page
    .getByRole('article')
    .filter({ has: page.getByRole('link', { name, exact: true }) })
    .filter({ hasText: 'a consent form to read and sign' });
  await expect(message).toHaveCount(1);
  const body = (await message.locator('pre').textContent()) ?? '';
  const match = body.match(/https?:\/\/\S+(\/c\/[0-9a-f]{48})\b/);
  expect(match, `consent link in the outbox message:\n${body}`).not.toBeNull();
  consentPath = match![1];
});

test.describe('patient on a phone', () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, bypassCSP: true });

  test('reads the consent form and signs it', async ({ page }) => {
    const response = await page.goto(consentPath);
    expect(response?.status()).toBe(200);
    await expect(page.getByRole('heading', { name: 'Consent form', level: 1 })).toBeVisible();
    await expect(
      page.getByRole('heading', { name: 'Ketamine by IV infusion: consent to treatment' }),
    ).toBeVisible();
    await expect(page.getByText('You may stop at any time')).toBeVisible();
    await expect(page.getByRole('link', { name: 'Patients', exact: true })).toHaveCount(0);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await axeViolations(page)).toEqual([]);

    const today = new Date().toISOString().slice(0, 10);
    await page.getByLabel(/^Full name/).fill('Ines Valdes');
    await page.getByLabel("Today's date").fill(today);
    await page.getByRole('button', { name: 'Sign the consent form' }).click();
    const problems = page.getByRole('alert');
    await expect(problems).toContainText('This is not the name the clinic has for you.');
    await expect(problems).toContainText('Tick the box');
    await expect(page.getByLabel(/^Full name/)).toHaveValue('Ines Valdes');
    expect(await axeViolations(page)).toEqual([]);

    await page.getByLabel(/^Full name/).fill(name.toLowerCase());
    await page.getByRole('checkbox', { name: /I have read and understood this document/ }).check();
    await page.getByRole('button', { name: 'Sign the consent form' }).click();
    await expect(page.getByRole('heading', { name: 'Thank you' })).toBeVisible();
    await expect(page.getByRole('status')).toContainText(
      'You signed “Ketamine by IV infusion: consent to treatment”',
    );
    // A reload shows the confirmation again, not the form.
    await page.reload();
    await expect(page.getByRole('heading', { name: 'Thank you' })).toBeVisible();
  });
});

test('the chart shows what the patient consented to', async ({ page }) => {
  await login(page, STAFF.prescriber);
  await page.goto(`/patients/${patientId}`);
  const consent = await section(page, 'Consent');
  await expect(consent).toContainText('Consented');
  await expect(consent).toContainText('by the patient through a link');
  await consent.getByRole('link', { name: 'Ketamine by IV infusion: consent to treatment' }).click();
  await expect(page.getByText('You may stop at any time')).toBeVisible();
});

test.describe('accessibility', () => {
  test.use({ bypassCSP: true });

  test('the screening page has no accessibility violations, signed or open', async ({ page }) => {
    const violations = () => axeViolations(page);
    await login(page, STAFF.prescriber);
    await page.goto(screeningPath);
    expect(await violations()).toEqual([]);
    // A new screening of the same patient: every intake form open.
    await page.goto(`/patients/${patientId}`);
    await page.getByRole('button', { name: 'Screen again', exact: true }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/screenings/') && url.pathname !== screeningPath);
    await expect(page.getByRole('button', { name: 'Save checklist' })).toBeVisible();
    expect(await violations()).toEqual([]);
    rescreenPath = new URL(page.url()).pathname;
  });
});

test('nurse sends the patient a history link for the new screening', async ({ page }) => {
  await login(page, STAFF.nurse);
  await page.goto(rescreenPath);
  const answers = await section(page, "The patient's own answers");
  await answers.getByRole('button', { name: 'Send the patient a history link' }).click();
  await expect(page.getByRole('status')).toContainText('History link created');
  await login(page, STAFF.coordinator);
  await goViaNav(page, 'Outbox');
  const message = page
    .getByRole('article')
    .filter({ has: page.getByRole('link', { name, exact: true }) })
    .filter({ hasText: 'your health history before your visit' });
  await expect(message).toHaveCount(1);
  const body = (await message.locator('pre').textContent()) ?? '';
  const match = body.match(/https?:\/\/\S+(\/h\/[0-9a-f]{48})\b/);
  expect(match, `history link in the outbox message:\n${body}`).not.toBeNull();
  historyPath = match![1];
});

test.describe('patient on a phone, before the visit', () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, bypassCSP: true });

  test('fills in health conditions, saves, comes back and sends', async ({ page }) => {
    await page.goto(historyPath);
    await expect(page.getByRole('heading', { name: 'Your health history', level: 1 })).toBeVisible();
    expect(await axeViolations(page)).toEqual([]);
    const conditions = await section(page, 'Health conditions');
    const groups = conditions.getByRole('group');
    const n = await groups.count();
    for (let i = 0; i < n - 1; i++) {
      const g = groups.nth(i);
      const legend = (await g.locator('legend').textContent()) ?? '';
      await g.getByRole('radio', { name: legend.startsWith('Heart disease') ? 'Yes' : 'No', exact: true }).check();
    }
    await conditions.getByRole('button', { name: 'Save health conditions' }).click();
    // The last question was left out: named at the top, the other answers kept.
    await expect(page.getByRole('alert')).toContainText('Please answer yes, no or not sure.');
    const again = await section(page, 'Health conditions');
    await expect(again.getByRole('group').first().getByRole('radio', { name: 'No', exact: true })).toBeChecked();
    expect(await axeViolations(page)).toEqual([]);
    await again.getByRole('group').nth(n - 1).getByRole('radio', { name: 'Not sure', exact: true }).check();
    await again.getByRole('button', { name: 'Save health conditions' }).click();
    await expect(page.getByRole('status')).toContainText('Saved.');
    // Saved as they go: a reload keeps the answers.
    await page.reload();
    await expect(
      (await section(page, 'Health conditions')).getByRole('group').nth(n - 1).getByRole('radio', { name: 'Not sure', exact: true }),
    ).toBeChecked();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.getByRole('button', { name: 'Send my answers' }).click();
    await expect(page.getByRole('status')).toContainText('Your answers have been sent');
  });
});

test('nurse confirms the health conditions into the checklist', async ({ page }) => {
  await login(page, STAFF.nurse);
  await page.goto(rescreenPath);
  const answers = await section(page, "The patient's own answers");
  await expect(answers).toContainText('The patient sent their answers');
  await expect(answers).toContainText('Heart disease');
  await answers.getByRole('button', { name: 'Confirm into the checklist' }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');
  await expect(await section(page, "The patient's own answers")).toContainText('Confirmed');
  const checklist = await section(page, 'Medical and psychiatric checklist');
  const heart = checklist.getByRole('group').filter({ hasText: 'Cardiovascular disease' });
  await expect(heart.getByRole('radio', { name: 'Yes', exact: true })).toBeChecked();
});
