import { test, expect, type Page } from '@playwright/test';
import {
  STAFF,
  addDays,
  axeViolations,
  goViaNav,
  login,
  region,
  registerPatient,
  signDecision,
  takeIntake,
  uniqueTag,
} from './helpers';

// Therapy notes through a course. A patient is screened eligible for IV ketamine and the
// prescriber plans a course with Theo Therapist, three weeks out on a chair of this spec's own.
// The therapist writes the preparation note from the chart with the intention in the patient's
// words and signs it; when the nurse opens the first dosing session, the intention is on the
// session page and already in the checklist's intention field. The therapist adds a
// time-stamped observation there. After the session the therapist writes and signs an
// integration note with a commitment and adds an addendum; at the next dosing session the
// commitment is shown open, and the next preparation note's page offers it for review. Axe
// runs on every notes page.
test.describe.configure({ mode: 'serial' });

const tag = uniqueTag();
const PATIENT = `Ines Moreau ${tag}`;
const CHAIR = `Chair ${tag} Notes`;
const INTENTION = 'To stop bracing for bad news all the time';
const COMMITMENT = 'Call my sister on Sunday evenings';

let patientId = '';
let coursePath = '';
let preparationNote = '';
let integrationNote = '';
let firstSession = '';

/** The course's appointment links of one kind (rows of its sessions table). */
function sessions(page: Page, kind: 'dosing' | 'preparation' | 'integration') {
  return page.locator(`tr.kind-${kind} a`);
}

/** The nurse checks in the course's n-th dosing appointment and opens its session; its path. */
async function openDosing(page: Page, n: number): Promise<string> {
  await login(page, STAFF.nurse);
  await page.goto(coursePath);
  await sessions(page, 'dosing').nth(n).click();
  await page.getByRole('button', { name: 'Check in', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('The appointment was updated.');
  await page.getByRole('button', { name: 'Open the dosing session', exact: true }).click();
  await page.waitForURL((url) => url.pathname.startsWith('/dosing/'));
  return new URL(page.url()).pathname;
}

test('a patient is screened eligible and given an IV course with the therapist', async ({ page }) => {
  test.slow();
  await login(page, STAFF.admin);
  await goViaNav(page, 'Protocols');
  await page.getByRole('button', { name: 'Add shipped protocols', exact: true }).click();
  await goViaNav(page, 'Staff');
  await page.getByRole('main').getByRole('link', { name: 'Rooms and chairs', exact: true }).click();
  const add = region(page, 'Add a room or chair');
  await add.getByLabel('Name', { exact: true }).fill(CHAIR);
  await add.getByRole('checkbox', { name: /^A dosing chair/ }).check();
  await add.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');

  patientId = await registerPatient(page, PATIENT, '1979-04-12');
  await signDecision(page, await takeIntake(page, patientId), {
    decision: 'Eligible',
    routes: ['IV infusion'],
    rationale: 'No contraindications on screening; IV racemic ketamine.',
  });

  await login(page, STAFF.prescriber);
  await page.goto(`/patients/${patientId}/courses/new`);
  await region(page, 'Protocol').getByRole('link', { name: 'IV racemic ketamine v1', exact: true }).click();
  const first = page.getByLabel('First session', { exact: true });
  // Three weeks past the proposed Monday, late in the day: clear of the other specs' sessions.
  await first.fill(addDays(await first.inputValue(), 21));
  await page.getByLabel('Sessions begin at').fill('17:30');
  await page.getByLabel(/^Therapist/).selectOption({ label: 'Theo Therapist (Therapist)' });
  await page.getByLabel('Dosing chair').selectOption({ label: CHAIR });
  await page.getByRole('button', { name: 'Plan the course', exact: true }).click();
  await page.waitForURL((url) => /^\/courses\/[^/]+$/.test(url.pathname));
  coursePath = new URL(page.url()).pathname;
});

test('the therapist writes and signs the preparation note with the intention in the patient’s words', async ({ page }) => {
  await login(page, STAFF.therapist);
  await page.goto(`/patients/${patientId}`);
  const notes = region(page, 'Notes');
  await expect(notes).toContainText('No note yet.');
  await notes.getByRole('link', { name: 'Preparation note', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`New preparation note — ${PATIENT}`);
  // Written for the course's preparation session.
  await page.getByLabel('Written for').selectOption({ index: 1 });
  await page.getByLabel('Intention', { exact: true }).fill(INTENTION);
  await page.getByLabel('Fears and concerns').fill('Losing control in front of staff.');
  await page.getByLabel('Support plan').fill('Her partner drives her home and stays the evening.');
  await page.getByRole('button', { name: 'Save the draft', exact: true }).click();
  await page.waitForURL((url) => url.pathname.startsWith('/notes/'));
  preparationNote = new URL(page.url()).pathname;
  await expect(page.getByRole('status')).toContainText('The draft is saved');
  await expect(page.getByLabel('Intention', { exact: true })).toHaveValue(INTENTION);
  await page.getByRole('button', { name: 'Save and sign', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('The note is signed and locked. Corrections are addenda.');
  await expect(page.locator('dl.facts')).toContainText('Signed');
  await expect(page.locator('dl.facts')).toContainText('matches its signature');
  await expect(region(page, 'The note')).toContainText(INTENTION);
  await page.goto(`/patients/${patientId}`);
  await expect(region(page, 'Notes')).toContainText(INTENTION);
});

test('the intention is on the dosing session page and in the checklist; the therapist adds an observation', async ({
  page,
}) => {
  firstSession = await openDosing(page, 0);
  const therapy = region(page, 'Therapy');
  await expect(therapy).toContainText(`“${INTENTION}”`);
  await expect(region(page, 'Pre-dose checks').getByLabel("Intention, in the patient's words")).toHaveValue(INTENTION);
  // The nurse's observations go on the flowsheet; the therapist's into their in-session note.
  await expect(therapy.getByRole('button', { name: 'Add to my in-session note' })).toHaveCount(0);

  await login(page, STAFF.therapist);
  await page.goto(firstSession);
  const panel = region(page, 'Therapy');
  await panel.getByLabel('Your observation').fill('Eyes closed, breathing slow; hands unclenched.');
  await panel.getByRole('button', { name: 'Add to my in-session note', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');
  await expect(region(page, 'Therapy')).toContainText('Eyes closed, breathing slow; hands unclenched.');
});

test('the therapist writes and signs an integration note with a commitment, then adds an addendum', async ({ page }) => {
  await login(page, STAFF.therapist);
  await page.goto(`/patients/${patientId}`);
  await region(page, 'Notes').getByRole('link', { name: 'Integration note', exact: true }).click();
  await page.getByLabel('Written for').selectOption({ index: 1 });
  await page.getByLabel('Themes').fill('Grief for her father, and the part of her that had to be the strong one.');
  await page.getByLabel('Insights').fill('“I don’t have to fix everyone before I can rest.”');
  const commitments = page.getByRole('group', { name: 'Commitments' });
  await commitments.getByLabel('Commitment 1', { exact: true }).fill(COMMITMENT);
  const today = await page.evaluate(() => new Date().toISOString().slice(0, 10));
  await commitments.getByLabel('Follow up on (commitment 1)').fill(addDays(today, 7));
  const selfTalk = page.getByRole('group', { name: 'A pause on harsh self-talk' });
  await selfTalk.getByLabel('Clear').check();
  await selfTalk.getByLabel(/^What you observed/).fill('Caught “I’m useless” twice and softened it.');
  await page.getByRole('button', { name: 'Save and sign', exact: true }).click();
  await page.waitForURL((url) => url.pathname.startsWith('/notes/'));
  integrationNote = new URL(page.url()).pathname;
  await expect(page.getByRole('status')).toHaveText('The note is signed and locked. Corrections are addenda.');
  await expect(region(page, 'The note')).toContainText(COMMITMENT);
  await expect(region(page, 'The note')).toContainText('Open');

  const addenda = region(page, 'Addenda');
  await addenda.getByRole('button', { name: 'Add the addendum', exact: true }).click();
  await expect(addenda.getByText('Say why the addendum is written.')).toBeVisible();
  await addenda.getByLabel('Reason').fill('Phone call the next day');
  await addenda.getByLabel('Addendum').fill('Slept well after a harder evening; no safety concerns.');
  await addenda.getByRole('button', { name: 'Add the addendum', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('The addendum is added.');
  await expect(region(page, 'Addenda')).toContainText('Phone call the next day');
  // The note itself did not change.
  await expect(page.locator('dl.facts')).toContainText('matches its signature');
});

test('the commitment shows at the next session, and the next preparation note offers it for review', async ({ page }) => {
  const second = await openDosing(page, 1);
  expect(second).not.toEqual(firstSession);
  const therapy = region(page, 'Therapy');
  await expect(therapy).toContainText(COMMITMENT);
  await expect(therapy).toContainText('Open');
  await expect(therapy).toContainText('A pause on harsh self-talk');

  await login(page, STAFF.therapist);
  await page.goto(`/patients/${patientId}/notes/new?kind=preparation`);
  await page.getByLabel('Intention', { exact: true }).fill('To keep calling her on Sundays');
  await page.getByRole('button', { name: 'Save the draft', exact: true }).click();
  await page.waitForURL((url) => url.pathname.startsWith('/notes/'));
  const earlier = region(page, 'Commitments from earlier sessions');
  await expect(earlier).toContainText(COMMITMENT);
  await earlier.getByLabel('What became of it').selectOption({ label: 'Kept' });
  await earlier.getByLabel('Short note (optional)').fill('Every Sunday so far.');
  await earlier.getByRole('button', { name: 'Record the review', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText("The commitment's review is recorded.");
  await expect(region(page, 'Commitments from earlier sessions')).toContainText('Kept: Every Sunday so far.');
});

test.describe('accessibility', () => {
  test.use({ bypassCSP: true });

  test('the notes pages have no axe violations', async ({ page }) => {
    test.slow();
    await login(page, STAFF.therapist);
    const pages = [
      `/patients/${patientId}`,
      `/patients/${patientId}/notes/new`,
      `/patients/${patientId}/notes/new?kind=integration`,
      `/patients/${patientId}/notes/new?kind=progress&format=soap`,
      preparationNote,
      integrationNote,
      firstSession,
      '/notes/unsigned',
      '/',
    ];
    for (const path of pages) {
      await page.goto(path);
      expect(await axeViolations(page), path).toEqual([]);
    }
    // The newest draft (the second preparation note), as its author edits it.
    await page.goto('/notes/unsigned');
    await page.getByRole('link', { name: 'Preparation note' }).first().click();
    expect(await axeViolations(page), 'a draft').toEqual([]);
    // A refused form, each problem beside its field.
    await page.getByLabel('Intention', { exact: true }).fill('x'.repeat(20_001));
    await page.getByRole('button', { name: 'Save the draft', exact: true }).click();
    await expect(page.getByRole('alert')).toContainText('the limit is 20,000 characters');
    expect(await axeViolations(page), 'a refused draft').toEqual([]);

    await login(page, STAFF.admin);
    for (const path of ['/admin/note-templates', '/admin/note-templates/integration', '/admin/notes', '/']) {
      await page.goto(path);
      expect(await axeViolations(page), path).toEqual([]);
    }
  });
});
