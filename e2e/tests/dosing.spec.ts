import { test, expect, type Browser, type Locator, type Page } from '@playwright/test';
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

// Dosing sessions at the chair. An administrator adds short-monitoring copies of the
// shipped IV and esketamine protocols (one minute of monitoring, so a test reaches discharge on
// the real clock) and two dosing chairs. Two patients are screened eligible, one for IV, one
// for esketamine; the prescriber plans each a course and books each a dosing session a few
// minutes from now; the nurse checks them in (the appointment page, the today board) and opens
// the sessions.
// On tablets: at the esketamine chair the nurse works the checklist and the pre-dose vitals,
// the prescriber orders 56 mg, the first device is given and the second must wait the
// protocol's rest. Meanwhile, at the IV chair, the prescriber orders the dose from today's
// weight and the nurse gives it; a systolic of 190 flags the flowsheet and raises an alert,
// which the prescriber answers from the home page. A vitals entry typed while the tablet is
// offline, and one whose reply is lost, each land once. The IV patient is discharged after the
// minimum, the prescriber co-signs, the record locks and takes an addendum. The esketamine
// session is discharged after the protocol's rest between devices; its co-signature waits on
// the REMS form (which a one-minute session cannot complete: see the last journey). The pages have no axe violations on a tablet and a phone.
// Two people work at once, each on their own tablet (a browser context of their own).
test.describe.configure({ mode: 'serial' });

const tag = uniqueTag();
const IV_PATIENT = `Noor Haddad ${tag}`;
const ESK_PATIENT = `Tomas Lindqvist ${tag}`;
const IV_E2E = 'IV e2e (short monitoring)';
const ESK_E2E = 'Esketamine e2e (short monitoring)';
const CHAIR_IV = `Chair ${tag} East`;
const CHAIR_ESK = `Chair ${tag} West`;
/** Who takes each patient home: named in the checklist, recorded on arrival after the dose. */
interface Escort {
  name: string;
  checklist: string;
}
const IV_ESCORT: Escort = { name: 'Sam Haddad', checklist: 'Sam Haddad (partner), 555 0142' };
const ESK_ESCORT: Escort = { name: 'Ines Lindqvist', checklist: 'Ines Lindqvist (sister), 555 0178' };
const TABLET = { width: 1024, height: 768 };
const PHONE = { width: 390, height: 844 };

let ivPatientId = '';
let eskPatientId = '';
let ivCoursePath = '';
/** Session pages, /dosing/{id}. */
let ivSession = '';
let eskSession = '';
/** The clinic's wall clock as a course page showed it, and this machine's clock then. */
let clock = { local: '', machineMs: 0 };
/** This machine's clock when the first esketamine device was given (for the rest between devices). */
let eskFirstDeviceMs = 0;

/** The nurse's and the prescriber's tablets, signed in once for the journeys. */
let nurse: Page;
let prescriber: Page;

async function tablet(browser: Browser, email: string): Promise<Page> {
  const context = await browser.newContext({ viewport: TABLET, baseURL: test.info().project.use.baseURL });
  const page = await context.newPage();
  await login(page, email);
  return page;
}

test.beforeAll(async ({ browser }) => {
  nurse = await tablet(browser, STAFF.nurse);
  prescriber = await tablet(browser, STAFF.prescriber);
});

test.afterAll(async () => {
  await nurse?.context().close();
  await prescriber?.context().close();
});

function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** The clinic's date and minute of the day now, from the clock a course page showed. */
function clinicNow(): { date: string; minutes: number } {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}):(\d{2})/.exec(clock.local);
  expect(m, `a time in the course history (${clock.local})`).not.toBeNull();
  const local = new Date(Date.parse(`${m![1]}T${m![2]}:${m![3]}:00Z`) + (Date.now() - clock.machineMs));
  return { date: local.toISOString().slice(0, 10), minutes: local.getUTCHours() * 60 + local.getUTCMinutes() };
}

/** A time earlier today, never before midnight (the checklist takes times of today). */
function earlierToday(minutesAgo: number): string {
  return hhmm(Math.max(0, clinicNow().minutes - minutesAgo));
}

/** Replaces the one line a pattern matches, failing loudly when the shipped file changed. */
function swapLine(text: string, line: RegExp, replacement: string): string {
  expect(text, `the shipped file has a line matching ${line}`).toMatch(line);
  return text.replace(line, replacement);
}

/** Removes the [sources] entries no number cites any more (the parser refuses them). */
function dropUncited(text: string): string {
  const keys = [...text.matchAll(/^(S\d+) = "/gm)].map((m) => m[1]);
  let out = text;
  for (const key of keys) {
    const cited = new RegExp(`source = "[^"]*\\b${key}\\b`).test(out);
    if (!cited) {
      out = out.replace(new RegExp(`^${key} = .*\\n`, 'm'), '');
    }
  }
  return out;
}

/** The live part of a session page (it refreshes itself every few seconds). */
const live = (page: Page) => page.locator('#live');
const stage = (page: Page) => page.locator('#live .stage .badge');
const flowsheet = (page: Page) => page.getByRole('table', { name: 'Flowsheet', exact: true });
const queueStatus = (page: Page) => page.locator('#queue-status');

/** Flowsheet rows whose text matches. */
function rows(page: Page, text: string | RegExp): Locator {
  return flowsheet(page).locator('tbody tr').filter({ hasText: text });
}

/** Fills and sends the flowsheet's vitals form (it goes through the tablet's queue). */
async function enterVitals(
  page: Page,
  v: { systolic: string; diastolic: string; heartRate?: string; spo2?: string },
): Promise<void> {
  const form = region(page, 'Flowsheet').getByRole('group', { name: 'Vitals', exact: true });
  await form.getByLabel('Systolic (mmHg)').fill(v.systolic);
  await form.getByLabel('Diastolic (mmHg)').fill(v.diastolic);
  await form.getByLabel('Heart rate (/min)').fill(v.heartRate ?? '76');
  await form.getByLabel('SpO₂ (%)').fill(v.spo2 ?? '98');
  await region(page, 'Flowsheet').getByRole('button', { name: 'Save vitals', exact: true }).click();
}

/** The nurse's pre-dose checklist, every item confirmed, a weight of 70 kg. */
async function recordChecklist(page: Page, intention: string, escort: Escort): Promise<void> {
  const checks = region(page, 'Pre-dose checks');
  await checks.getByLabel('Identity confirmed (name and date of birth)').check();
  await checks.getByLabel('Last food (time today)').fill(earlierToday(180));
  await checks.getByLabel('Last fluids (time today)').fill(earlierToday(60));
  await checks.getByLabel('Escort or ride home (name and phone)').fill(escort.checklist);
  await checks.getByRole('group', { name: 'Pregnancy', exact: true }).getByLabel('Not applicable').check();
  await checks.getByLabel("Today's medications reviewed").check();
  await checks.getByLabel('Intention reviewed with the patient').check();
  await checks.getByLabel("Intention, in the patient's words").fill(intention);
  await checks.getByLabel('Weight today (kg)').fill('70');
  await checks.getByRole('button', { name: 'Save the checklist', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');
  await expect(checks).toContainText('Identity confirmed · weight today 70 kg');
  await expect(checks).toContainText(`Escort: ${escort.checklist}`);
}

/**
 * The nurse starts the administration of the ordered dose: a lot, an expiry a year ahead;
 * started at the minute the dose was ordered when `atOrderTime` (blank is now).
 */
async function startAdministration(page: Page, lot: string, atOrderTime = false): Promise<void> {
  const order = region(page, 'Order and administration');
  if (atOrderTime) {
    const ordered = /ordered by Priya Prescriber at (\d{2}:\d{2})/.exec((await order.textContent()) ?? '');
    expect(ordered, 'the time of the order').not.toBeNull();
    await order.getByLabel('Started at (blank: now)').fill(ordered![1]);
  }
  await order.getByLabel('Lot number').fill(lot);
  await order.getByLabel('Expiry date').fill(addDays(clinicNow().date, 365));
  await expect(order.getByLabel('Given by').locator('option:checked')).toHaveText('Nina Nurse (Nurse)');
  await order.getByLabel('Supervised by').selectOption({ label: 'Priya Prescriber' });
  await order.getByRole('button', { name: 'Start the administration', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');
  await expect(order).toContainText(`lot ${lot}`);
}

/** The MOAA/S rating and the escort's arrival, as the nurse records them after the dose. */
async function recordRecovery(page: Page, escort: Escort): Promise<void> {
  const flow = region(page, 'Flowsheet');
  await expect(flow.getByLabel('MOAA/S', { exact: true }).locator('option:checked')).toHaveText(/^5 — /);
  await flow.getByRole('button', { name: 'Save MOAA/S', exact: true }).click();
  await expect(rows(page, 'MOAA/S')).toHaveCount(1);
  await flow.getByLabel('Observation', { exact: true }).selectOption({ label: 'Escort has arrived (name)' });
  await flow.getByLabel('Text', { exact: true }).fill(escort.name);
  await flow.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(rows(page, 'Escort present')).toContainText(escort.name);
}

/** Waits (on this machine's clock) until a minute and a little has passed since `since`. */
async function waitAMinuteFrom(page: Page, since: number): Promise<void> {
  const left = since + 62_000 - Date.now();
  if (left > 0) {
    await page.waitForTimeout(left);
  }
}

/** How far the page is wider than the screen (0 or less: it fits). */
function overflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

/** Skips a journey when no session could be booked today (the clinic day was all but over). */
function needSessions(): void {
  test.skip(!ivSession || !eskSession, 'no dosing session today: the clinic day was all but over');
}

test('administrator adds short-monitoring copies of the IV and esketamine protocols, and two chairs', async ({
  page,
}) => {
  test.slow(); // two uploads and two rooms
  await login(page, STAFF.admin);
  await goViaNav(page, 'Protocols');
  // Adds only what the clinic lacks: the courses spec may have added them already.
  await page.getByRole('button', { name: 'Add shipped protocols', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText("Kapstone's shipped protocols were added to this clinic.");

  const shipped = async (name: string): Promise<string> => {
    await goViaNav(page, 'Protocols');
    await page.getByRole('link', { name, exact: true }).first().click();
    return (await page.locator('details pre').textContent()) ?? '';
  };
  const upload = async (file: string, text: string, name: string): Promise<void> => {
    await goViaNav(page, 'Protocols');
    const form = region(page, 'Upload a protocol version');
    await form.getByLabel('File name').fill(file);
    await form.getByLabel('Protocol file').fill(text);
    await form.getByRole('button', { name: 'Check and add', exact: true }).click();
    await expect(page.getByRole('status')).toHaveText(
      'The protocol version was added. Courses already planned keep their version.',
    );
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(`${name} version 1`);
  };

  // IV: the minimum counts from the start and may not be shorter than the infusion.
  let iv = await shipped('IV racemic ketamine');
  iv = swapLine(iv, /^key = "iv-ketamine"$/m, 'key = "iv-e2e"');
  iv = swapLine(iv, /^name = "IV racemic ketamine"$/m, `name = "${IV_E2E}"`);
  iv = swapLine(iv, /^infusion_minutes = .*$/m, 'infusion_minutes = { value = 1, source = "clinic policy" }');
  iv = swapLine(iv, /^minimum_minutes = .*$/m, 'minimum_minutes = { value = 1, source = "clinic policy" }');
  iv = swapLine(iv, /^vitals_every_minutes_during = .*$/m, 'vitals_every_minutes_during = { value = 1, source = "clinic policy" }');
  iv = swapLine(iv, /^vitals_every_minutes_after = .*$/m, 'vitals_every_minutes_after = { value = 1, source = "clinic policy" }');
  await upload('iv-e2e.toml', dropUncited(iv), IV_E2E);

  // Esketamine: a minute between devices, a minute of monitoring, the blood-pressure check
  // within it (none may come after the minimum).
  let esk = await shipped('Esketamine nasal spray for TRD');
  esk = swapLine(esk, /^key = "esketamine-trd"$/m, 'key = "esketamine-e2e"');
  esk = swapLine(esk, /^name = "Esketamine nasal spray for TRD"$/m, `name = "${ESK_E2E}"`);
  esk = swapLine(esk, /^minutes_between_units = .*$/m, 'minutes_between_units = { value = 1, source = "clinic policy" }');
  esk = swapLine(esk, /^minimum_minutes = .*$/m, 'minimum_minutes = { value = 1, source = "clinic policy" }');
  esk = swapLine(esk, /^bp_checks_at_minutes = .*$/m, 'bp_checks_at_minutes = { value = [1], source = "clinic policy" }');
  await upload('esketamine-e2e.toml', dropUncited(esk), ESK_E2E);

  await goViaNav(page, 'Staff');
  await page.getByRole('main').getByRole('link', { name: 'Rooms and chairs', exact: true }).click();
  const add = () => region(page, 'Add a room or chair');
  for (const chair of [CHAIR_IV, CHAIR_ESK]) {
    await add().getByLabel('Name', { exact: true }).fill(chair);
    await add().getByRole('checkbox', { name: /^A dosing chair/ }).check();
    await add().getByRole('button', { name: 'Add', exact: true }).click();
    await expect(page.getByRole('status')).toHaveText('Saved.');
  }
});

test('two patients are screened eligible, one for IV ketamine, one for esketamine', async ({ page }) => {
  test.slow(); // two patients, three people each
  ivPatientId = await registerPatient(page, IV_PATIENT, '1984-06-02');
  await signDecision(page, await takeIntake(page, ivPatientId), {
    decision: 'Eligible',
    routes: ['IV infusion'],
    rationale: 'No contraindications on screening; IV racemic ketamine.',
  });
  eskPatientId = await registerPatient(page, ESK_PATIENT, '1971-10-19');
  await signDecision(page, await takeIntake(page, eskPatientId), {
    decision: 'Eligible',
    routes: ['Esketamine nasal spray'],
    rationale: 'No contraindications on screening; esketamine nasal spray under the REMS.',
  });
});

/** The prescriber plans a course two weeks out and books one extra dosing session today. */
async function planWithSessionToday(
  page: Page,
  patientId: string,
  protocol: string,
  time: string,
  chair: string,
  inMinutes: number,
): Promise<string> {
  await page.goto(`/patients/${patientId}/courses/new`);
  await region(page, 'Protocol').getByRole('link', { name: `${protocol} v1`, exact: true }).click();
  const first = page.getByLabel('First session', { exact: true });
  // The form proposes next Monday; two weeks from that keeps clear of other specs' sessions.
  await first.fill(addDays(await first.inputValue(), 14));
  await page.getByLabel('Sessions begin at').fill(time);
  await page.getByLabel(/^Therapist/).selectOption({ label: 'Theo Therapist (Therapist)' });
  await page.getByLabel('Dosing chair').selectOption({ label: chair });
  await page.getByRole('button', { name: 'Plan the course', exact: true }).click();
  await page.waitForURL((url) => /^\/courses\/[^/]+$/.test(url.pathname));
  await expect(page.getByRole('status')).toHaveText('The course is planned and its sessions are on the calendar.');
  const coursePath = new URL(page.url()).pathname;
  if (!clock.local) {
    clock = {
      local: ((await region(page, 'History').getByRole('listitem').first().textContent()) ?? '').trim(),
      machineMs: Date.now(),
    };
  }

  const now = clinicNow();
  test.skip(now.minutes + inMinutes + 35 > 24 * 60, 'the clinic day is all but over');
  const add = page.locator('details').filter({ has: page.getByText('Add a session', { exact: true }) });
  await add.getByText('Add a session', { exact: true }).click();
  await add.getByLabel('Session', { exact: true }).selectOption({ label: 'Dosing' });
  await add.getByLabel('Date', { exact: true }).fill(now.date);
  await add.getByLabel('Time', { exact: true }).fill(hhmm(now.minutes + inMinutes));
  await add.getByLabel('Where', { exact: true }).selectOption({ label: `${chair} (dosing chair)` });
  await add.getByRole('button', { name: 'Book the session', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('The appointment was booked.');
  return coursePath;
}

test('prescriber books a dosing session today for each; the nurse checks them in and opens the sessions', async ({
  page,
}) => {
  test.slow();
  await login(page, STAFF.prescriber);
  ivCoursePath = await planWithSessionToday(page, ivPatientId, IV_E2E, '06:00', CHAIR_IV, 3);
  await planWithSessionToday(page, eskPatientId, ESK_E2E, '12:00', CHAIR_ESK, 4);
  const today = clinicNow().date;

  // IV: checked in and opened from the appointment page (check-in before the start is fine).
  await nurse.goto(ivCoursePath);
  await nurse
    .getByRole('table', { name: 'Sessions of the course' })
    .getByRole('row')
    .filter({ hasText: today })
    .getByRole('link')
    .click();
  await expect(nurse.getByRole('heading', { level: 1 })).toHaveText(`Dosing — ${IV_PATIENT}`);
  await expect(nurse.getByRole('button', { name: 'Open the dosing session', exact: true })).toHaveCount(0);
  await nurse.getByRole('button', { name: 'Check in', exact: true }).click();
  await expect(nurse.getByRole('status')).toHaveText('The appointment was updated.');
  await nurse.getByRole('button', { name: 'Open the dosing session', exact: true }).click();
  await nurse.waitForURL((url) => url.pathname.startsWith('/dosing/'));
  ivSession = new URL(nurse.url()).pathname;
  await expect(nurse.getByRole('heading', { level: 1 })).toHaveText(`Dosing session — ${IV_PATIENT}`);
  await expect(nurse.locator('dl.facts')).toContainText(`${IV_E2E} (version 1) · planned dose 0.5 mg/kg`);
  await expect(stage(nurse)).toHaveText('Pre-dose checks');

  // Esketamine: from the today board on the home page.
  await goViaNav(nurse, 'Home');
  const board = () => region(nurse, /^Today's sessions/);
  const expected = board().getByRole('region', { name: /^Expected/ }).getByRole('listitem').filter({ hasText: ESK_PATIENT });
  await expect(expected).toContainText('Dosing');
  await expected.getByRole('button', { name: `Check in ${ESK_PATIENT}`, exact: true }).click();
  await expect(nurse.getByRole('status')).toHaveText('The appointment was updated.');
  const checkedIn = board().getByRole('region', { name: /^Checked in/ }).getByRole('listitem').filter({ hasText: ESK_PATIENT });
  await checkedIn.getByRole('button', { name: `Open the dosing session of ${ESK_PATIENT}`, exact: true }).click();
  await nurse.waitForURL((url) => url.pathname.startsWith('/dosing/'));
  eskSession = new URL(nurse.url()).pathname;
  await expect(nurse.getByRole('heading', { level: 1 })).toHaveText(`Dosing session — ${ESK_PATIENT}`);
  // Back on the board, the session is a link to its flowsheet, not a second "open" button.
  await goViaNav(nurse, 'Home');
  const waiting = board().getByRole('listitem').filter({ hasText: ESK_PATIENT });
  await expect(waiting.getByRole('link', { name: `Flowsheet of ${ESK_PATIENT}`, exact: true })).toHaveAttribute(
    'href',
    eskSession,
  );
  await expect(waiting.getByRole('button', { name: /^Open the dosing session/ })).toHaveCount(0);
});

test('esketamine chair: checklist, 56 mg ordered as two devices, the first given; the second waits its rest', async () => {
  test.slow();
  needSessions();
  await nurse.goto(eskSession);
  await recordChecklist(nurse, 'To get back to reading to my kids.', ESK_ESCORT);
  await enterVitals(nurse, { systolic: '126', diastolic: '80' });
  await expect(rows(nurse, 'BP 126/80')).toHaveCount(1);

  await prescriber.goto(eskSession);
  const order = region(prescriber, 'Order and administration');
  await expect(order).toContainText(/56 mg = 2 devices of 28 mg/);
  await expect(order.getByLabel('Dose (mg)')).toHaveValue('56');
  await order.getByRole('button', { name: 'Order this dose', exact: true }).click();
  await expect(prescriber.getByRole('status')).toHaveText('Saved.');

  await nurse.reload();
  await startAdministration(nurse, 'SPR-3KX91');
  eskFirstDeviceMs = Date.now();
  const running = region(nurse, 'Order and administration');
  await expect(running).toContainText('1 of 2 given');
  // The protocol's rest between devices is kept.
  await running.getByRole('button', { name: 'Next device given', exact: true }).click();
  await expect(nurse.getByRole('alert').first()).toContainText(
    'The protocol asks for 1 min between units; the next may be given at',
  );
  await expect(stage(nurse)).toHaveText('Dosing');
  // The REMS section lists what the form still lacks.
  await expect(region(nurse, 'REMS monitoring form')).toContainText('Still to answer:');
});

test.describe('accessibility, while the sessions are open', () => {
  test.use({ bypassCSP: true });

  test('the open sessions and a refused checklist have no axe violations on a tablet and a phone', async ({ page }) => {
    test.slow();
    needSessions();
    await login(page, STAFF.nurse);
    for (const [device, viewport] of [
      ['a tablet', TABLET],
      ['a phone', PHONE],
    ] as const) {
      await page.setViewportSize(viewport);
      // Before the dose every entry form is there; during it, the device steps and the REMS form.
      for (const path of [ivSession, eskSession]) {
        await page.goto(path);
        expect(await axeViolations(page), `${path} on ${device}`).toEqual([]);
      }
      // Nothing ticked: each problem is shown beside its field, and nothing is saved.
      await page.goto(ivSession);
      await region(page, 'Pre-dose checks').getByRole('button', { name: 'Save the checklist', exact: true }).click();
      await expect(page.getByRole('alert').first()).toContainText('Nothing was saved.');
      await expect(region(page, 'Pre-dose checks').getByLabel('Weight today (kg)')).toHaveAttribute('aria-invalid', 'true');
      expect(await axeViolations(page), `a refused checklist on ${device}`).toEqual([]);
    }
  });
});

test('IV chair: checklist, dose from today\'s weight, infusion; a systolic of 190 raises an alert answered from the home page', async () => {
  test.slow();
  needSessions();
  await nurse.goto(ivSession);
  await recordChecklist(nurse, 'To feel less weighed down in the mornings.', IV_ESCORT);
  await expect(region(nurse, 'Pre-dose checks')).toContainText('Record pre-dose vitals.');
  await enterVitals(nurse, { systolic: '124', diastolic: '78', heartRate: '72' });
  await expect(rows(nurse, 'BP 124/78')).toHaveCount(1);
  await expect(queueStatus(nurse)).toHaveText('');
  // The pre-dose part is not live: the nurse reloads to see dosing may start.
  await nurse.reload();
  await expect(region(nurse, 'Pre-dose checks')).toContainText('✓ Dosing may start.');
  await expect(region(nurse, 'Order and administration').getByRole('button', { name: 'Start the administration' })).toHaveCount(0);

  // The prescriber sees the arithmetic and orders.
  await prescriber.goto(ivSession);
  const order = region(prescriber, 'Order and administration');
  await expect(order).toContainText(/Calculated from today's weight: .*0\.5 mg\/kg × 70(\.0)? kg = 35 mg/);
  await expect(order.getByLabel('Dose (mg/kg)')).toHaveValue('0.5');
  await order.getByRole('button', { name: 'Order this dose', exact: true }).click();
  await expect(prescriber.getByRole('status')).toHaveText('Saved.');
  await expect(order).toContainText(/Dose: 35\.0 mg \(0\.500 mg\/kg\) — ordered by Priya Prescriber/);
  await expect(order.getByRole('button', { name: 'Order this dose' })).toHaveCount(0);

  await nurse.reload();
  await expect(region(nurse, 'Order and administration')).toContainText('Give: Dose 35 mg (0.5 mg/kg of 70 kg)');
  // Started at the minute of the order: the minimum monitoring time counts from there.
  await startAdministration(nurse, 'KET-24-0113', true);
  await expect(stage(nurse)).toHaveText('Dosing');
  await region(nurse, 'Order and administration').getByRole('button', { name: 'Infusion complete', exact: true }).click();
  await expect(nurse.getByRole('status')).toHaveText('Saved.');
  await expect(stage(nurse)).toHaveText('Monitoring');
  await expect(rows(nurse, 'Administration started')).toContainText('lot KET-24-0113');
  await expect(flowsheet(nurse).getByRole('cell', { name: 'Complete', exact: true })).toHaveCount(1);

  // A systolic beyond the protocol's alert limit: the row is flagged, the alert is listed.
  await enterVitals(nurse, { systolic: '190', diastolic: '95', heartRate: '88' });
  const high = rows(nurse, 'BP 190/95');
  await expect(high).toHaveCount(1);
  await expect(high).toContainText('beyond limit');
  const sessionAlerts = live(nurse).locator('.session-alerts');
  await expect(sessionAlerts).toContainText('Systolic blood pressure (mmHg) 190 is above 180');
  await expect(sessionAlerts).toContainText('Needs a response');

  // The prescriber answers it from the home page's safety alerts.
  await goViaNav(prescriber, 'Home');
  const alert = region(prescriber, 'Safety alerts')
    .locator('div.card')
    .filter({ has: prescriber.getByRole('link', { name: IV_PATIENT, exact: true }) });
  await expect(alert).toHaveCount(1);
  await expect(alert).toContainText('Systolic blood pressure (mmHg) 190 is above 180');
  await expect(alert.getByRole('link', { name: 'Open the dosing session', exact: true })).toHaveAttribute('href', ivSession);
  const onBoard = () => region(prescriber, /^Today's sessions/).getByRole('listitem').filter({ hasText: IV_PATIENT });
  await expect(onBoard()).toContainText('Alert needs a response');
  const note = 'Rechecked manually 178/92; labetalol not needed, vitals every 5 minutes.';
  await alert.getByLabel('Action note', { exact: true }).fill(note);
  await alert.getByRole('button', { name: 'Acknowledge', exact: true }).click();
  await expect(prescriber.getByRole('status')).toHaveText('Alert acknowledged.');
  await expect(
    region(prescriber, 'Safety alerts').getByRole('link', { name: IV_PATIENT, exact: true }),
  ).toHaveCount(0);
  await expect(onBoard()).not.toContainText('Alert needs a response');

  // The nurse's flowsheet picks up the response on its next refresh.
  await expect(sessionAlerts).toContainText(`Responded by Priya Prescriber: ${note}`, { timeout: 10_000 });
  await expect(sessionAlerts).not.toContainText('Needs a response');
  await recordRecovery(nurse, IV_ESCORT);
  const criteria = live(nurse).locator('ul.criteria');
  await expect(criteria.getByRole('listitem').filter({ hasText: 'Vitals within limits' })).toContainText('✗');
  await expect(criteria.getByRole('listitem').filter({ hasText: 'Escort present' })).toContainText('✓');
});

test('an entry typed offline waits on the tablet and lands once; so does one whose reply was lost', async () => {
  test.slow();
  needSessions();
  await nurse.goto(ivSession);
  await expect(stage(nurse)).toHaveText('Monitoring');

  await nurse.context().setOffline(true);
  await enterVitals(nurse, { systolic: '132', diastolic: '84' });
  await expect(queueStatus(nurse)).toContainText('1 entry not yet sent — kept on this tablet and retried.');
  await expect(rows(nurse, 'BP 132/84')).toHaveCount(0);
  await nurse.context().setOffline(false);
  await expect(rows(nurse, 'BP 132/84')).toHaveCount(1, { timeout: 10_000 });
  await expect(queueStatus(nurse)).toHaveText('');

  // The server saves the entry but the answer never reaches the tablet: it retries with the
  // same client id, and the server keeps the first save.
  let lost = 0;
  await nurse.route('**/dosing/*/vitals', async (route) => {
    if (lost === 0) {
      lost += 1;
      await route.fetch();
      await route.abort('connectionreset');
    } else {
      await route.continue();
    }
  });
  await enterVitals(nurse, { systolic: '122', diastolic: '78', heartRate: '70' });
  await expect(queueStatus(nurse)).toContainText('not yet sent');
  await expect(queueStatus(nurse)).toHaveText('', { timeout: 10_000 });
  await nurse.unroute('**/dosing/*/vitals');
  expect(lost).toBe(1);
  await nurse.reload();
  await expect(rows(nurse, 'BP 132/84')).toHaveCount(1);
  await expect(rows(nurse, 'BP 122/78')).toHaveCount(1);
});

test('the IV patient is discharged after the minimum; the prescriber co-signs, the record locks and takes an addendum', async () => {
  test.slow();
  needSessions();
  await nurse.goto(ivSession);
  // The live part turns "ready" by itself once the minute since the dose has passed.
  await expect(stage(nurse)).toHaveText('Ready for discharge', { timeout: 75_000 });
  const criteria = live(nurse).locator('ul.criteria').getByRole('listitem');
  await expect(criteria.filter({ hasText: '✗' })).toHaveCount(0);
  await expect(criteria.filter({ hasText: '1 min of monitoring since the first dose' })).toContainText('✓');

  // The co-signature waits for the discharge.
  await prescriber.goto(ivSession);
  await expect(region(prescriber, 'Co-signature')).toContainText('The prescriber co-signs after discharge.');

  await nurse.reload();
  const discharge = region(nurse, 'Discharge');
  await expect(discharge).toContainText('✓ Every discharge criterion is met.');
  await expect(discharge.getByLabel('Leaves with')).toHaveValue(IV_ESCORT.checklist);
  await discharge.getByRole('button', { name: 'Discharge', exact: true }).click();
  await expect(nurse.getByRole('status')).toHaveText('Saved.');
  await expect(discharge).toContainText(`with ${IV_ESCORT.checklist} by Nina Nurse`);
  await expect(stage(nurse)).toHaveText('Discharged, awaiting co-signature');

  await prescriber.reload();
  const sign = region(prescriber, 'Co-signature');
  await sign.getByRole('button', { name: 'Co-sign the session', exact: true }).click();
  await expect(prescriber.getByRole('status')).toHaveText('Saved.');
  await expect(sign).toContainText('Co-signed by Priya Prescriber');
  await expect(sign).toContainText('The record is locked; corrections are addenda.');
  await expect(stage(prescriber)).toHaveText('Signed');
  // No entry forms are left: only an addendum.
  for (const button of ['Save vitals', 'Save MOAA/S', 'Record the adverse event', 'Discharge', 'Order a booster']) {
    await expect(prescriber.getByRole('button', { name: button, exact: true })).toHaveCount(0);
  }
  const addenda = region(prescriber, 'Addenda');
  await addenda.getByLabel('Reason', { exact: true }).fill('Omitted at discharge');
  await addenda.getByLabel('Addendum', { exact: true }).fill('Patient given the written aftercare leaflet as well.');
  await addenda.getByRole('button', { name: 'Add the addendum', exact: true }).click();
  await expect(prescriber.getByRole('status')).toHaveText('Saved.');
  await expect(addenda).toContainText('Omitted at discharge — Patient given the written aftercare leaflet as well.');

  // The today board shows the session done.
  await goViaNav(nurse, 'Home');
  await expect(
    region(nurse, /^Today's sessions/).getByRole('region', { name: /^Done/ }).getByRole('listitem').filter({ hasText: IV_PATIENT }),
  ).toHaveCount(1);
});

test('esketamine: second device after the rest, discharge; the co-signature waits on the REMS form', async () => {
  test.slow();
  needSessions();
  await nurse.goto(eskSession);
  await recordRecovery(nurse, ESK_ESCORT);
  await enterVitals(nurse, { systolic: '128', diastolic: '82' });
  await expect(rows(nurse, 'BP 128/82')).toHaveCount(1);
  await waitAMinuteFrom(nurse, eskFirstDeviceMs);
  await region(nurse, 'Order and administration').getByRole('button', { name: 'Next device given', exact: true }).click();
  await expect(nurse.getByRole('status')).toHaveText('Saved.');
  await expect(rows(nurse, 'Unit 2 given')).toHaveCount(1);
  await expect(stage(nurse)).toHaveText('Ready for discharge', { timeout: 10_000 });
  await nurse.reload();
  await region(nurse, 'Discharge').getByRole('button', { name: 'Discharge', exact: true }).click();
  await expect(nurse.getByRole('status')).toHaveText('Saved.');

  // Co-signing is refused while the REMS form has unanswered fields, and says which.
  await prescriber.goto(eskSession);
  const rems = region(prescriber, 'REMS monitoring form');
  await expect(rems).toContainText('Still to answer:');
  await expect(rems).toContainText('Concomitant medication: Benzodiazepines');
  await region(prescriber, 'Co-signature').getByRole('button', { name: 'Co-sign the session', exact: true }).click();
  const refusal = prescriber.getByRole('alert').first();
  await expect(refusal).toContainText('The session cannot be signed');
  await expect(refusal).toContainText('the REMS form lacks: Concomitant medication: Benzodiazepines');

  // The nurse answers the questions the session cannot answer itself.
  await nurse.reload();
  const form = region(nurse, 'REMS monitoring form');
  const meds = form.getByRole('group', { name: 'Concomitant medication', exact: true });
  for (const name of ['Benzodiazepines', 'Non-benzodiazepine sedative hypnotics', 'Psychostimulants', 'MAOIs', 'Opioids']) {
    await meds.getByRole('paragraph').filter({ hasText: `${name}:` }).getByLabel('No', { exact: true }).check();
  }
  await form.getByLabel("Monitoring healthcare provider's phone").fill('555 0100');
  await form.getByLabel('Setting address').fill('12 Harbour Street, Suite 3');
  const outcomes = form.getByRole('group', { name: 'Adverse outcomes', exact: true });
  for (const name of ['Sedation', 'Dissociation', 'Respiratory depression']) {
    await outcomes.getByRole('paragraph').filter({ hasText: `${name}:` }).getByLabel('No', { exact: true }).check();
  }
  await form.getByRole('button', { name: 'Save the REMS answers', exact: true }).click();
  await expect(nurse.getByRole('status')).toHaveText('Saved.');
  const after = region(nurse, 'REMS monitoring form');
  await expect(
    after.getByRole('paragraph').filter({ hasText: 'Opioids:' }).getByLabel('No', { exact: true }),
  ).toBeChecked();
  await expect(after.getByLabel('Setting address')).toHaveValue('12 Harbour Street, Suite 3');
  // What remains is the blood pressure 40 minutes after administration, which a one-minute
  // test session cannot have (the REMS form asks for it whatever the protocol's minimum).
  await expect(after.locator('p.warning')).toHaveText('Still to answer: Blood pressure: 40 minutes after administration.');

  await nurse.getByRole('link', { name: 'The form as it will be submitted', exact: true }).click();
  await expect(nurse.getByRole('heading', { level: 1 })).toHaveText('SPRAVATO REMS Patient Monitoring Form');
  const table = nurse.locator('table.rems-form');
  await expect(table.getByRole('row').filter({ hasText: 'Concomitant medication — Opioids' })).toContainText('No');
  await expect(table.getByRole('row').filter({ hasText: 'Session — Lot number' })).toContainText('SPR-3KX91');
  await expect(table.getByRole('row').filter({ hasText: 'Session — Dose' })).toContainText('56 mg');

  await goViaNav(nurse, 'Home');
  await region(nurse, /^Today's sessions/).getByRole('link', { name: 'Esketamine REMS forms due', exact: true }).click();
  await expect(nurse.getByRole('heading', { level: 1 })).toHaveText('REMS monitoring forms due');
  await expect(nurse.getByRole('row').filter({ hasText: ESK_PATIENT })).toContainText('Not yet');
});

test.describe('accessibility, once the sessions are closed', () => {
  test.use({ bypassCSP: true });

  test('the signed and discharged sessions, a refused co-signature, the REMS form and the forms due have no axe violations on a tablet and a phone', async ({
    page,
  }) => {
    test.slow();
    needSessions();
    await login(page, STAFF.prescriber);
    for (const [device, viewport] of [
      ['a tablet', TABLET],
      ['a phone', PHONE],
    ] as const) {
      await page.setViewportSize(viewport);
      for (const path of [ivSession, `${eskSession}/rems`, '/rems']) {
        await page.goto(path);
        expect(await axeViolations(page), `${path} on ${device}`).toEqual([]);
      }
      // The session (its flowsheet scrolls in its own box), the printable form and the list
      // fit the screen.
      for (const path of [ivSession, `${eskSession}/rems`, '/rems']) {
        await page.goto(path);
        expect(await overflow(page), `${path} on ${device}`).toBeLessThanOrEqual(0);
      }
      await page.goto(eskSession);
      await region(page, 'Co-signature').getByRole('button', { name: 'Co-sign the session', exact: true }).click();
      await expect(page.getByRole('alert').first()).toContainText('The session cannot be signed');
      expect(await axeViolations(page), `a refused co-signature on ${device}`).toEqual([]);
    }
  });
});

test('esketamine: the nurse gives the 40-minute pressure the flowsheet lacks, the prescriber co-signs, and the submitted form leaves the list', async () => {
  needSessions();
  await nurse.goto(eskSession);
  const form = region(nurse, 'REMS monitoring form');
  await form
    .getByLabel(/Blood pressure about 40 minutes after administration/)
    .fill('not measured (one-minute test session)');
  await form.getByRole('button', { name: 'Save the REMS answers', exact: true }).click();
  await expect(nurse.getByRole('status')).toHaveText('Saved.');
  await expect(region(nurse, 'REMS monitoring form')).toContainText('Every field has an answer.');

  await prescriber.goto(eskSession);
  const sign = region(prescriber, 'Co-signature');
  await sign.getByRole('button', { name: 'Co-sign the session', exact: true }).click();
  await expect(prescriber.getByRole('status')).toHaveText('Saved.');
  await expect(region(prescriber, 'Co-signature')).toContainText('Co-signed by');

  await nurse.reload();
  const rems = region(nurse, 'REMS monitoring form');
  await rems.getByRole('button', { name: 'Mark the form submitted', exact: true }).click();
  await expect(nurse.getByRole('status')).toHaveText('Saved.');
  await expect(region(nurse, 'REMS monitoring form')).toContainText('Submitted on');
  await nurse.goto('/rems');
  await expect(nurse.getByRole('row').filter({ hasText: ESK_PATIENT })).toHaveCount(0);
});
