import { test, expect, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { STAFF, goViaNav, lastSegment, login, uniqueTag } from './helpers';

// Screening: a coordinator registers a patient; a nurse starts the screening, answers the
// checklist (one relative contraindication), records no medications and the vitals (a typing
// slip is refused and kept); the prescriber sees the finding with its reason and source, is
// refused "eligible", writes the justification and signs "eligible with precautions"; the
// screening is then locked and the chart shows the decision.
test.describe.configure({ mode: 'serial' });

const tag = uniqueTag();
const name = `Ines Valdez ${tag}`;
let patientId = '';
let screeningPath = '';

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

test.describe('accessibility', () => {
  test.use({ bypassCSP: true });

  test('the screening page has no accessibility violations, signed or open', async ({ page }) => {
    const violations = async () => {
      await page.addScriptTag({
        content: readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'),
      });
      return page.evaluate(async () => {
        // @ts-expect-error injected above
        const r = await window.axe.run(document, { resultTypes: ['violations'] });
        return r.violations.map((v: { id: string; nodes: unknown[] }) => `${v.id} (${v.nodes.length})`);
      });
    };
    await login(page, STAFF.prescriber);
    await page.goto(screeningPath);
    expect(await violations()).toEqual([]);
    // A new screening of the same patient: every intake form open.
    await page.goto(`/patients/${patientId}`);
    await page.getByRole('button', { name: 'Screen again', exact: true }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/screenings/') && url.pathname !== screeningPath);
    await expect(page.getByRole('button', { name: 'Save checklist' })).toBeVisible();
    expect(await violations()).toEqual([]);
  });
});
