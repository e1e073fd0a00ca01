import { test, expect, type Page } from '@playwright/test';
import { STAFF, axeViolations, login, region, registerPatient, uniqueTag } from './helpers';

// The care-team thread: KAP is a prescriber and a therapist treating one patient together.
// The therapist posts an integration observation on the chart, mentioning the prescriber, and
// gives the coordinator a task (with a clinical detail only clinicians read). The prescriber's
// home page shows the unread mention; opening the thread shows it as new and marks it seen, so
// the home page no longer counts it. The coordinator's home page lists the task by its title —
// no message, no detail — and the coordinator marks it done; the therapist sees who did it.
// A post naming someone who does not work here is refused beside the text, as typed. The pages
// have no axe violations, on a desktop and on a phone.
test.describe.configure({ mode: 'serial' });

const tag = uniqueTag();
const PATIENT = `Ines Moreau ${tag}`;
const OBSERVATION = `Integration ${tag}: the harsh inner voice was quieter for most of the week.`;
const TASK_TITLE = `Move the Friday session to an afternoon ${tag}`;
const TASK_DETAIL = `Mornings bring on her anxiety ${tag}`;
const PHONE = { width: 390, height: 844 };

let patientId = '';

function thread(page: Page) {
  return region(page, 'Care team');
}

function homeTeam(page: Page) {
  return region(page, 'Care team: my tasks and mentions');
}

test('the therapist posts an observation mentioning the prescriber and gives the coordinator a task', async ({
  page,
}) => {
  patientId = await registerPatient(page, PATIENT, '1986-05-14');
  await login(page, STAFF.therapist);
  await page.goto(`/patients/${patientId}`);
  const team = thread(page);
  await expect(team.getByText('Messages are never edited or deleted')).toBeVisible();

  // Someone who does not work here: refused beside the text, the text kept as typed.
  await team.getByLabel('New message').fill(`${OBSERVATION}\n@Priya please look before the dose.`);
  await team.getByRole('button', { name: 'Post message', exact: true }).click();
  await expect(thread(page).getByText('No one in this clinic is called “@Priya”. Did you mean @Priya Prescriber?')).toBeVisible();
  await expect(thread(page).getByLabel('New message')).toHaveValue(`${OBSERVATION}\n@Priya please look before the dose.`);
  await expect(thread(page).getByLabel('New message')).toHaveAttribute('aria-invalid', 'true');

  await thread(page).getByLabel('New message').fill(`${OBSERVATION}\n@Priya Prescriber worth knowing before the next dose.`);
  await thread(page).getByRole('button', { name: 'Post message', exact: true }).click();
  await expect(thread(page).getByText(OBSERVATION)).toBeVisible();
  await expect(thread(page).getByText('Mentions: Priya Prescriber')).toBeVisible();

  // A long address wraps inside the thread rather than widening the page (checked on a phone below).
  await thread(page).getByLabel('New message').fill(`See https://example.org/${'x'.repeat(160)} for the leaflet.`);
  await thread(page).getByRole('button', { name: 'Post message', exact: true }).click();
  await expect(thread(page).getByText('for the leaflet.')).toBeVisible();

  await thread(page).getByLabel('Title', { exact: true }).fill(TASK_TITLE);
  await thread(page).getByLabel('Detail').fill(TASK_DETAIL);
  await thread(page).getByLabel('For', { exact: true }).selectOption({ label: 'Cora Coordinator · Coordinator' });
  await thread(page).getByRole('button', { name: 'Add task', exact: true }).click();
  const task = thread(page).getByRole('listitem').filter({ hasText: TASK_TITLE });
  await expect(task).toContainText('For Cora Coordinator');
  await expect(task).toContainText(TASK_DETAIL);
});

test('the prescriber sees the unread mention at home, opens the thread, and it becomes seen', async ({ page }) => {
  await login(page, STAFF.prescriber);
  const home = homeTeam(page);
  await expect(home.getByRole('heading', { name: 'Unread mentions (1)' })).toBeVisible();
  const mention = home.getByRole('listitem').filter({ hasText: 'Theo Therapist' });
  await expect(mention).toContainText('the harsh inner voice');
  await mention.getByRole('link', { name: PATIENT, exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/patients/${patientId}/team#m-1$`));
  await expect(page.getByRole('heading', { name: `Care team: ${PATIENT}`, level: 1 })).toBeVisible();
  const message = page.locator('#m-1');
  await expect(message).toContainText(OBSERVATION);
  await expect(message.getByText('New', { exact: true })).toBeVisible();

  await page.goto('/');
  await expect(homeTeam(page).getByRole('heading', { name: 'Unread mentions (0)' })).toBeVisible();
  await expect(homeTeam(page).getByText('No unread mentions.')).toBeVisible();
  await page.goto(`/patients/${patientId}/team`);
  await expect(page.locator('#m-1').getByText('New', { exact: true })).toHaveCount(0);

  // The prescriber answers on the thread's page.
  await thread(page).getByLabel('New message').fill('Thanks — I will ask about sleep before ordering.');
  await thread(page).getByRole('button', { name: 'Post message', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Message posted.');
  await expect(page.locator('#m-3')).toContainText('I will ask about sleep');
});

test('the coordinator sees the task without clinical text and marks it done', async ({ page }) => {
  await login(page, STAFF.coordinator);
  const home = homeTeam(page);
  const task = home.getByRole('listitem').filter({ hasText: TASK_TITLE });
  await expect(task).toContainText(PATIENT);
  await expect(home.getByText(TASK_DETAIL)).toHaveCount(0);
  await expect(page.getByText(OBSERVATION)).toHaveCount(0);
  await expect(home.getByRole('heading', { name: /Unread mentions/ })).toHaveCount(0);

  // The chart's care-team panel: tasks only, no messages, no message form.
  await page.goto(`/patients/${patientId}`);
  await expect(thread(page).getByText(TASK_TITLE, { exact: true })).toBeVisible();
  await expect(thread(page).getByText(OBSERVATION)).toHaveCount(0);
  await expect(thread(page).getByText(TASK_DETAIL)).toHaveCount(0);
  await expect(thread(page).getByRole('button', { name: 'Post message' })).toHaveCount(0);

  await page.goto('/');
  await homeTeam(page)
    .getByRole('listitem')
    .filter({ hasText: TASK_TITLE })
    .getByRole('button', { name: new RegExp(`^Mark done\\W+${TASK_TITLE}$`) })
    .click();
  await expect(homeTeam(page).getByRole('listitem').filter({ hasText: TASK_TITLE })).toHaveCount(0);

  await login(page, STAFF.therapist);
  await page.goto(`/patients/${patientId}/team`);
  const done = thread(page).getByRole('listitem').filter({ hasText: TASK_TITLE });
  await expect(done).toContainText('Done');
  await expect(done).toContainText('Marked done by Cora Coordinator');
  await expect(done.getByRole('button', { name: /Mark done/ })).toHaveCount(0);
});

test.describe('accessibility', () => {
  test.use({ bypassCSP: true });

  test('the thread, the home page and my tasks and mentions have no axe violations', async ({ page }) => {
    test.slow();
    for (const [who, paths] of [
      [STAFF.therapist, [`/patients/${patientId}/team`, `/patients/${patientId}`, '/team', '/']],
      [STAFF.coordinator, [`/patients/${patientId}/team`, '/team', '/']],
    ] as const) {
      await login(page, who);
      for (const viewport of [{ width: 1280, height: 800 }, PHONE]) {
        await page.setViewportSize(viewport);
        for (const path of paths) {
          await page.goto(path);
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          expect(overflow, `${path} on ${viewport.width}px`).toBeLessThanOrEqual(0);
          expect(await axeViolations(page), `${path} as ${who} on ${viewport.width}px`).toEqual([]);
        }
      }
    }
    // A refused post, with its errors beside the fields.
    await login(page, STAFF.therapist);
    await page.goto(`/patients/${patientId}/team`);
    await thread(page).getByLabel('New message').fill('@Nobody Here hello');
    await thread(page).getByRole('button', { name: 'Post message', exact: true }).click();
    await expect(thread(page).getByText('No one in this clinic is called “@Nobody”.', { exact: false })).toBeVisible();
    expect(await axeViolations(page), 'a refused post').toEqual([]);
  });
});
