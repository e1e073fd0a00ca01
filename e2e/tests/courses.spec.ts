import { test, expect, type Locator, type Page } from '@playwright/test';
import {
  STAFF,
  addDays,
  axeViolations,
  clinicToday,
  goViaNav,
  login,
  mondayOf,
  region,
  registerPatient,
  signDecision,
  staffNav,
  takeIntake,
  uniqueTag,
} from './helpers';

// Courses and the calendar (issue 10): an administrator adds Kapstone's shipped protocols, a
// dosing chair and a room; a patient is screened and signed eligible for esketamine; the
// prescriber tailors an esketamine course to start in ten days, previews its sessions and plans
// it; the calendar shows them week by week for eight weeks; a coordinator moves a dosing session
// to a free time and is refused a time that clashes with the patient's other session; a session
// moved to later today waits on the home page's today board and is checked in there; the
// administrator uploads a new protocol version (the page shows what changed) and retires
// another; the pages have no axe violations.
// Dates and times are the clinic's (its time zone), read from the pages, never from this
// machine's clock alone.
test.describe.configure({ mode: 'serial' });

const tag = uniqueTag();
const name = `Rosa Okafor ${tag}`;
const ESKETAMINE = 'Esketamine nasal spray for TRD';
const SUBLINGUAL = 'Sublingual ketamine-assisted psychotherapy';
const IM = 'IM ketamine-assisted psychotherapy';
const THERAPIST = 'Theo Therapist (Therapist)';

/** A session as the plan's preview lays it out, in the clinic's local time. */
interface Session {
  date: string;
  /** HH:MM */
  time: string;
  minutes: number;
  title: string;
}

let patientId = '';
let protocolPath = '';
let coursePath = '';
let startDate = '';
let planned: Session[] = [];
/** The clinic's wall clock as the course page showed it when planning, and this machine's then. */
let plannedAt = { local: '', machineMs: 0 };
let movedDosingPath = '';
let clashingPath = '';
let newVersionPath = '';
let retiredPath = '';

function session(title: string): Session {
  const s = planned.find((x) => x.title === title);
  expect(s, `${title} in the preview`).toBeDefined();
  return s!;
}

const isDosing = (s: { title: string }) => /^Dosing \d+/.test(s.title);

/** This patient's appointment links on a calendar ("09:00–11:20 Dosing 2 (induction) — Rosa …"). */
function sessionsOfPatient(scope: Page | Locator): Locator {
  return scope.getByRole('link').filter({ hasText: `— ${name}` });
}

/** "Mon 7 Dec", as the calendar labels a day. */
function dayLabel(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()];
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  return `${weekday} ${d.getUTCDate()} ${month}`;
}

function toMinutes(hm: string): number {
  const [h, m] = hm.split(':').map(Number);
  return h * 60 + m;
}

function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** The clinic's date and minute of the day now, from the clock the course page showed. */
function clinicNow(): { date: string; minutes: number } {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}):(\d{2})/.exec(plannedAt.local);
  expect(m, `a time in the course history (${plannedAt.local})`).not.toBeNull();
  const local = new Date(Date.parse(`${m![1]}T${m![2]}:${m![3]}:00Z`) + (Date.now() - plannedAt.machineMs));
  return { date: local.toISOString().slice(0, 10), minutes: local.getUTCHours() * 60 + local.getUTCMinutes() };
}

/** The appointment's "When" as its page shows it: "2026-12-10 09:00 UTC–11:20". */
async function when(page: Page): Promise<string> {
  const dd = page.locator('dl.facts dt').filter({ hasText: /^When$/ }).locator('xpath=following-sibling::dd[1]');
  return ((await dd.textContent()) ?? '').trim();
}

/** Opens one of this patient's appointments from the day view of the calendar. */
async function openAppointment(page: Page, s: Session): Promise<string> {
  await page.goto(`/calendar?view=day&date=${s.date}`);
  await sessionsOfPatient(page.locator('main')).filter({ hasText: s.title }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`${s.title} — ${name}`);
  return new URL(page.url()).pathname;
}

/** Fills the appointment page's "Move it" form and submits it. */
async function moveTo(page: Page, date: string, time: string): Promise<void> {
  const form = region(page, 'Move it');
  await form.getByLabel('Date', { exact: true }).fill(date);
  await form.getByLabel('Time', { exact: true }).fill(time);
  await form.getByRole('button', { name: 'Move', exact: true }).click();
}

test('administrator adds the shipped protocols, a dosing chair and a room', async ({ page }) => {
  await login(page, STAFF.admin);
  await goViaNav(page, 'Protocols');
  await page.getByRole('button', { name: 'Add shipped protocols', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText("Kapstone's shipped protocols were added to this clinic.");
  const row = page
    .getByRole('table', { name: 'Protocol versions, newest first' })
    .getByRole('row')
    .filter({ has: page.getByRole('link', { name: ESKETAMINE, exact: true }) });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('Esketamine nasal spray');
  await expect(row).toContainText('Current');
  await row.getByRole('link', { name: ESKETAMINE, exact: true }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`${ESKETAMINE} version 1`);
  await expect(region(page, 'Retire this protocol')).toBeVisible();
  protocolPath = new URL(page.url()).pathname;

  await goViaNav(page, 'Staff');
  await page.getByRole('main').getByRole('link', { name: 'Rooms and chairs', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Rooms and chairs', level: 1 })).toBeVisible();
  const add = () => region(page, 'Add a room or chair');
  await add().getByLabel('Name', { exact: true }).fill('Chair 1');
  await add().getByRole('checkbox', { name: /^A dosing chair/ }).check();
  await add().getByRole('button', { name: 'Add', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');
  await add().getByLabel('Name', { exact: true }).fill('Room A');
  await expect(add().getByRole('checkbox', { name: /^A dosing chair/ })).not.toBeChecked();
  await add().getByRole('button', { name: 'Add', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');
  const rooms = page.getByRole('table', { name: 'Rooms' });
  await expect(rooms.getByRole('row').filter({ hasText: 'Chair 1' }).getByRole('cell').nth(1)).toHaveText('Dosing chair');
  await expect(rooms.getByRole('row').filter({ hasText: 'Room A' }).getByRole('cell').nth(1)).toHaveText('Room');
});

test('the patient is screened and signed eligible for esketamine', async ({ page }) => {
  test.slow(); // three people, three logins
  patientId = await registerPatient(page, name, '1979-02-14');
  // Coordinators book sessions; they do not plan courses.
  await expect(region(page, 'Treatment courses')).toContainText('No course yet.');
  await expect(page.getByRole('link', { name: 'Plan a course' })).toHaveCount(0);

  const screeningPath = await takeIntake(page, patientId);
  await signDecision(page, screeningPath, {
    decision: 'Eligible',
    routes: ['Esketamine nasal spray'],
    rationale: 'No contraindications on screening; esketamine nasal spray under the REMS.',
  });
  await page.goto(`/patients/${patientId}`);
  await expect(region(page, 'Screening')).toContainText('Eligible');
  await expect(region(page, 'Screening')).toContainText('Esketamine nasal spray');
});

test('prescriber tailors, previews and plans an esketamine course; the calendar shows it week by week', async ({
  page,
}) => {
  test.slow(); // eight calendar weeks
  await login(page, STAFF.prescriber);
  startDate = addDays(await clinicToday(page), 10);

  await page.goto(`/patients/${patientId}`);
  await region(page, 'Treatment courses').getByRole('link', { name: 'Plan a course', exact: true }).click();
  await expect(page.getByRole('heading', { name: `Plan a course for ${name}`, level: 1 })).toBeVisible();
  await region(page, 'Protocol').getByRole('link', { name: `${ESKETAMINE} v1`, exact: true }).click();
  await expect(page).toHaveURL(/\/courses\/new\?protocol=/);

  // The protocol as written, from next Monday; the prescriber starts it ten days from today.
  const first = page.getByLabel('First session', { exact: true });
  await expect(first).not.toHaveValue(startDate);
  await first.fill(startDate);
  await expect(page.getByLabel('Sessions begin at')).toHaveValue('09:00');
  const days = page.getByRole('group', { name: 'Dosing days' });
  await expect(days.getByRole('checkbox', { checked: true })).toHaveCount(2);
  await expect(days.getByRole('checkbox', { name: 'Monday' })).toBeChecked();
  await expect(days.getByRole('checkbox', { name: 'Thursday' })).toBeChecked();
  await expect(page.getByLabel('Weeks of induction (2 a week)')).toHaveValue('4');
  await expect(page.getByLabel('Dose (mg)')).toHaveValue('56');
  await page.getByLabel(/^Therapist/).selectOption({ label: THERAPIST });
  await page.getByLabel(/^Nurse/).selectOption({ label: 'Nina Nurse (Nurse)' });
  await page.getByLabel('Dosing chair').selectOption({ label: 'Chair 1' });
  await page.getByLabel(/^Room/).selectOption({ label: 'Room A' });

  await page.getByRole('button', { name: 'Preview sessions', exact: true }).click();
  const table = page.getByRole('table', { name: 'Planned sessions' });
  await expect(table).toBeVisible();
  // The tailoring is kept across the preview.
  await expect(page.getByLabel('First session', { exact: true })).toHaveValue(startDate);
  await expect(page.getByLabel('Dosing chair').locator('option:checked')).toHaveText('Chair 1');
  planned = [];
  for (const r of await table.locator('tbody tr').all()) {
    const [day, span, title] = (await r.locator('td').allTextContents()).map((s) => s.trim());
    const [from, to] = span.split('–');
    planned.push({ date: day.replace(/^\w+ /, ''), time: from, minutes: toMinutes(to) - toMinutes(from), title });
  }
  await expect(region(page, `The sessions it makes (${planned.length})`)).toBeVisible();
  expect(planned[0]).toMatchObject({ date: startDate, time: '09:00', title: 'Preparation 1' });
  const dosing = planned.filter(isDosing);
  expect(dosing.map((s) => s.title).slice(0, 2)).toEqual(['Dosing 1 (induction)', 'Dosing 2 (induction)']);
  expect(dosing.length).toBeGreaterThanOrEqual(8);

  await page.getByRole('button', { name: 'Plan the course', exact: true }).click();
  await page.waitForURL((url) => /^\/courses\/[^/]+$/.test(url.pathname));
  coursePath = new URL(page.url()).pathname;
  await expect(page.getByRole('status')).toHaveText('The course is planned and its sessions are on the calendar.');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`${ESKETAMINE} v1 Planned`);
  const sessions = page.getByRole('table', { name: 'Sessions of the course' });
  await expect(sessions.locator('tbody tr')).toHaveCount(planned.length);
  const firstDose = sessions.getByRole('row').filter({ hasText: 'Dosing 1 (induction)' });
  await expect(firstDose).toContainText('Nina Nurse');
  await expect(firstDose).toContainText('Chair 1');
  await expect(firstDose).toContainText('Expected');
  await expect(region(page, 'Summary')).toContainText(`0 of ${planned.length} sessions done`);
  await expect(region(page, 'Summary')).toContainText(`0 of ${dosing.length} doses given`);
  plannedAt = {
    local: ((await region(page, 'History').getByRole('listitem').first().textContent()) ?? '').trim(),
    machineMs: Date.now(),
  };
  expect(plannedAt.local).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} .*Planned by Priya Prescriber/);

  await page.goto(`/patients/${patientId}`);
  await expect(region(page, 'Treatment courses').getByRole('link', { name: `${ESKETAMINE} v1` })).toBeVisible();

  // The calendar, from this week: "Next" to the course's first week, then eight weeks, each
  // with this patient's sessions just as the preview laid them out.
  await staffNav(page).getByRole('link', { name: 'Calendar', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Week of /);
  const next = page.getByRole('navigation', { name: 'Calendar' }).getByRole('link', { name: /^Next/ });
  let monday = mondayOf(await clinicToday(page));
  while (monday < mondayOf(startDate)) {
    await next.click();
    monday = addDays(monday, 7);
    await expect(page).toHaveURL(new RegExp(`date=${monday}`));
  }
  for (let week = 1; week <= 8; week++) {
    const expected = planned.filter((s) => s.date >= monday && s.date <= addDays(monday, 6));
    const expectedDosing = expected.filter(isDosing).length;
    expect(expected.length, `sessions laid out in week ${week} (from ${monday})`).toBeGreaterThan(0);
    if (week >= 2 && week <= 4) {
      expect(expectedDosing, `induction week ${week}: twice a week`).toBe(2);
    }
    const main = page.locator('main');
    await expect(sessionsOfPatient(main), `the week from ${monday}`).toHaveCount(expected.length);
    await expect(sessionsOfPatient(main).filter({ hasText: /Dosing \d+/ })).toHaveCount(expectedDosing);
    for (const s of expected) {
      const day = region(page, dayLabel(s.date));
      await expect(sessionsOfPatient(day).filter({ hasText: `${s.time}–` }).filter({ hasText: s.title })).toHaveCount(1);
    }
    if (week < 8) {
      await next.click();
      monday = addDays(monday, 7);
      await expect(page).toHaveURL(new RegExp(`date=${monday}`));
    }
  }

  // Filtered by the chair, the first week shows its dosing sessions only, and "Next" keeps the filter.
  const firstWeek = planned.filter((s) => s.date >= mondayOf(startDate) && s.date <= addDays(mondayOf(startDate), 6));
  await page.goto(`/calendar?date=${startDate}`);
  await page.getByLabel('Room or chair').selectOption({ label: 'Chair 1' });
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await expect(sessionsOfPatient(page.locator('main'))).toHaveCount(firstWeek.filter(isDosing).length);
  await expect(next).toHaveAttribute('href', /[?&]room=/);
  await page.getByLabel('Room or chair').selectOption({ label: 'All' });
  await page.getByLabel('Staff member').selectOption({ label: 'Theo Therapist' });
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await expect(sessionsOfPatient(page.locator('main'))).toHaveCount(firstWeek.filter((s) => !isDosing(s)).length);
});

test('coordinator moves a dosing session to a free time, and is refused a time that clashes', async ({ page }) => {
  await login(page, STAFF.coordinator);
  const third = session('Dosing 3 (induction)');
  movedDosingPath = await openAppointment(page, third);
  await expect(region(page, 'Move it').getByLabel('Date', { exact: true })).toHaveValue(third.date);
  await expect(region(page, 'Move it').getByLabel('Time', { exact: true })).toHaveValue(third.time);

  // The afternoon of the same day is free for the patient, the nurse and the chair.
  const moved = { from: toMinutes('15:00'), to: toMinutes('15:00') + third.minutes };
  await moveTo(page, third.date, hhmm(moved.from));
  await expect(page.getByRole('status')).toHaveText('The appointment was moved.');
  expect(await when(page)).toMatch(new RegExp(`^${third.date} 15:00 .*–${hhmm(moved.to)}$`));
  await expect(page.locator('dl.facts')).toContainText('Chair 1');
  await expect(page.locator('dl.facts')).toContainText('Nina Nurse');

  // The next dose onto that afternoon too: refused, and nothing changes.
  const fourth = session('Dosing 4 (induction)');
  clashingPath = await openAppointment(page, fourth);
  const before = await when(page);
  await moveTo(page, third.date, '15:30');
  const refusal = page.getByRole('alert');
  await expect(refusal).toContainText('Nothing was changed.');
  await expect(refusal).toContainText(
    `clashes with the patient's own Dosing 3 (induction) (${hhmm(moved.from)}–${hhmm(moved.to)})`,
  );
  // What was typed is kept, to correct it.
  await expect(region(page, 'Move it').getByLabel('Time', { exact: true })).toHaveValue('15:30');
  await page.goto(clashingPath);
  expect(await when(page)).toBe(before);
  await page.goto(movedDosingPath);
  expect(await when(page)).toMatch(new RegExp(`^${third.date} 15:00 `));
});

test('a session moved to later today waits on the today board and is checked in there', async ({ page }) => {
  const now = clinicNow();
  // About two hours from now, and still today in the clinic.
  const at = Math.floor(Math.min(now.minutes + 120, 23 * 60 + 55) / 5) * 5;
  test.skip(at - now.minutes < 3, 'the clinic day is all but over');
  const time = hhmm(at);

  await login(page, STAFF.coordinator);
  await openAppointment(page, session('Preparation 1'));
  await moveTo(page, now.date, time);
  await expect(page.getByRole('status')).toHaveText('The appointment was moved.');
  expect(await when(page)).toMatch(new RegExp(`^${now.date} ${time} `));

  await goViaNav(page, 'Home');
  const board = region(page, /^Today's sessions/);
  const expected = board.getByRole('region', { name: /^Expected/ }).getByRole('listitem').filter({ hasText: name });
  await expect(expected).toHaveCount(1);
  await expect(expected).toContainText(`${time}–`);
  await expect(expected).toContainText('Preparation 1');
  // The button names its patient for screen readers.
  await expected.getByRole('button', { name: `Check in ${name}`, exact: true }).click();
  await page.waitForURL((url) => url.pathname === '/');
  await expect(page.getByRole('status')).toHaveText('The appointment was updated.');
  const after = region(page, /^Today's sessions/);
  await expect(after.getByRole('region', { name: /^Expected/ }).getByRole('listitem').filter({ hasText: name })).toHaveCount(0);
  const checkedIn = after.getByRole('region', { name: /^Checked in/ }).getByRole('listitem').filter({ hasText: name });
  await expect(checkedIn).toContainText('Preparation 1');
  await expect(checkedIn.getByRole('button')).toHaveCount(0);

  // The first check-in starts the course.
  await page.goto(coursePath);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`${ESKETAMINE} v1 Active`);
  await expect(
    page.getByRole('table', { name: 'Sessions of the course' }).getByRole('row').filter({ hasText: 'Preparation 1' }),
  ).toContainText('Checked in');
});

test('administrator uploads a new protocol version, sees what changed, and retires another', async ({ page }) => {
  test.slow();
  await login(page, STAFF.admin);
  await goViaNav(page, 'Protocols');
  await page.getByRole('link', { name: SUBLINGUAL, exact: true }).click();
  const v1 = (await page.locator('details pre').textContent()) ?? '';
  const version1 = /^version = 1$/m;
  const followUps1 = /^follow_ups = \{ value = 1, source = "clinic policy" \}$/m;
  expect(v1).toMatch(version1);
  expect(v1).toMatch(followUps1);

  // A number without its source: the file is refused whole, the problem named with its line,
  // and what was pasted is kept.
  await goViaNav(page, 'Protocols');
  const upload = () => region(page, 'Upload a protocol version');
  const unsourced = v1.replace(version1, 'version = 2').replace(followUps1, 'follow_ups = { value = 2 }');
  await upload().getByLabel('File name').fill('sublingual-kap.toml');
  await upload().getByLabel('Protocol file').fill(unsourced);
  await upload().getByRole('button', { name: 'Check and add', exact: true }).click();
  const problems = page.getByRole('alert');
  await expect(problems).toContainText('The file was not added.');
  const line = unsourced.split('\n').findIndex((l) => l.startsWith('follow_ups = ')) + 1;
  await expect(problems.getByRole('listitem')).toHaveText([
    `sublingual-kap.toml:${line}: sessions.follow_ups.source: is required but missing`,
  ]);
  await expect(upload().getByLabel('File name')).toHaveValue('sublingual-kap.toml');
  expect((await upload().getByLabel('Protocol file').inputValue()).trimEnd()).toBe(unsourced.trimEnd());

  const v2 = v1.replace(version1, 'version = 2').replace(followUps1, 'follow_ups = { value = 2, source = "clinic policy" }');
  await upload().getByLabel('Protocol file').fill(v2);
  await upload().getByRole('button', { name: 'Check and add', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText(
    'The protocol version was added. Courses already planned keep their version.',
  );
  newVersionPath = new URL(page.url()).pathname;
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`${SUBLINGUAL} version 2`);
  const changes = region(page, 'Changes from version 1');
  await expect(changes.locator('.removed')).toHaveText([
    '− version = 1',
    '− follow_ups = { value = 1, source = "clinic policy" }',
  ]);
  await expect(changes.locator('.added')).toHaveText([
    '+ version = 2',
    '+ follow_ups = { value = 2, source = "clinic policy" }',
  ]);
  await goViaNav(page, 'Protocols');
  const rows = page
    .getByRole('table', { name: 'Protocol versions, newest first' })
    .getByRole('row')
    .filter({ hasText: SUBLINGUAL });
  await expect(rows).toHaveCount(2);
  await expect(rows.filter({ hasText: 'Current' }).getByRole('cell').nth(2)).toHaveText('2');
  await expect(rows.filter({ hasText: 'Superseded' }).getByRole('cell').nth(2)).toHaveText('1');

  // Retiring needs a reason; then no new course can be planned on it.
  await page.getByRole('link', { name: IM, exact: true }).click();
  retiredPath = new URL(page.url()).pathname;
  await region(page, 'Retire this protocol').getByRole('button', { name: 'Retire', exact: true }).click();
  await expect(region(page, 'Retire this protocol')).toContainText('Say why it is retired');
  await region(page, 'Retire this protocol').getByLabel('Why').fill('The clinic no longer offers intramuscular dosing.');
  await region(page, 'Retire this protocol').getByRole('button', { name: 'Retire', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('The protocol is retired: no new courses on it. Courses under it go on.');
  await expect(page.locator('dl.facts')).toContainText('The clinic no longer offers intramuscular dosing.');
  await expect(region(page, 'Retire this protocol')).toHaveCount(0);

  await login(page, STAFF.prescriber);
  await page.goto(`/patients/${patientId}/courses/new`);
  const choices = region(page, 'Protocol');
  await expect(choices.getByRole('link', { name: `${SUBLINGUAL} v2`, exact: true })).toBeVisible();
  await expect(choices.getByRole('link', { name: `${SUBLINGUAL} v1`, exact: true })).toHaveCount(0);
  await expect(choices.getByRole('link', { name: new RegExp(`^${IM}`) })).toHaveCount(0);
});

test('the calendar week is seven columns on a wide screen and one list of days on a phone', async ({ page }) => {
  await login(page, STAFF.coordinator);
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`/calendar?date=${startDate}`);
  const days = page.locator('main section.calendar-day');
  await expect(days).toHaveCount(7);
  const wide = await days.evaluateAll((els) => els.map((e) => e.getBoundingClientRect().top));
  expect(new Set(wide).size, 'all seven days side by side').toBe(1);

  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  const narrow = await days.evaluateAll((els) => els.map((e) => e.getBoundingClientRect().top));
  expect(narrow).toEqual([...narrow].sort((a, b) => a - b));
  expect(new Set(narrow).size, 'one day under another').toBe(7);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});

test.describe('accessibility', () => {
  test.use({ bypassCSP: true });

  test('protocol, room, plan, course, calendar, appointment and home pages have no axe violations', async ({
    page,
  }) => {
    test.slow(); // axe on fifteen pages
    await login(page, STAFF.admin);
    for (const path of ['/protocols', protocolPath, newVersionPath, retiredPath, '/admin/rooms']) {
      await page.goto(path);
      expect(await axeViolations(page), path).toEqual([]);
    }

    await login(page, STAFF.prescriber);
    await page.goto(`/patients/${patientId}/courses/new`);
    expect(await axeViolations(page), 'the protocol choice').toEqual([]);
    await region(page, 'Protocol').getByRole('link', { name: `${ESKETAMINE} v1`, exact: true }).click();
    expect(await axeViolations(page), 'the plan form').toEqual([]);
    // Nobody chosen yet: the form says so next to the fields.
    await page.getByRole('button', { name: 'Preview sessions', exact: true }).click();
    await expect(page.getByText('Choose the therapist for the talking sessions.')).toBeVisible();
    expect(await axeViolations(page), 'the plan form with its errors').toEqual([]);
    await page.getByLabel(/^Therapist/).selectOption({ label: THERAPIST });
    await page.getByLabel('Dosing chair').selectOption({ label: 'Chair 1' });
    await page.getByRole('button', { name: 'Preview sessions', exact: true }).click();
    await expect(page.getByRole('table', { name: 'Planned sessions' })).toBeVisible();
    expect(await axeViolations(page), 'the plan form with its preview').toEqual([]);

    for (const path of [
      coursePath,
      `/patients/${patientId}`,
      `/calendar?date=${startDate}`,
      `/calendar?view=day&date=${startDate}`,
      movedDosingPath,
      '/',
    ]) {
      await page.goto(path);
      expect(await axeViolations(page), path).toEqual([]);
    }
    // An appointment page with a refused move on it.
    await page.goto(clashingPath);
    await moveTo(page, session('Dosing 3 (induction)').date, '15:30');
    await expect(page.getByRole('alert')).toContainText('Nothing was changed.');
    expect(await axeViolations(page), 'a refused move').toEqual([]);
  });
});

test.describe('accessibility on a phone', () => {
  test.use({ bypassCSP: true, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

  test('the protocol changes, the course, the calendar and the today board fit and have no axe violations', async ({
    page,
  }) => {
    test.slow();
    await login(page, STAFF.prescriber);
    for (const path of [newVersionPath, coursePath, `/calendar?date=${startDate}`, movedDosingPath, '/']) {
      await page.goto(path);
      if (path === newVersionPath) {
        // Long lines of the file scroll sideways inside their box, which the keyboard reaches.
        await page.locator('details > summary').filter({ hasText: 'The file as uploaded' }).press('Enter');
        await expect(page.locator('details pre')).toBeVisible();
      }
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, path).toBeLessThanOrEqual(0);
      expect(await axeViolations(page), path).toEqual([]);
    }
  });
});
