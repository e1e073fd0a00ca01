import { test, expect, type Page } from '@playwright/test';
import { STAFF, goViaNav, lastSegment, login, staffNav, uniqueTag } from './helpers';

// One journey through the clinic: a visitor's inquiry becomes a patient, staff
// find the patient, the admin sees the audit trail, a therapist is kept out.
// The tests depend on each other and run in order; a failure skips the rest.
test.describe.configure({ mode: 'serial' });

const tag = uniqueTag();
const name = `Jordan Rivera ${tag}`;
const email = `jordan.${tag.toLowerCase()}@example.com`;
const phone = '+15550100123';
const message = `I would like an appointment for physiotherapy (${tag}).`;
const dateOfBirth = '1990-04-12';

const rejectedName = `Morgan Noconsent ${tag}`;

let patientId = '';

async function fillContactForm(page: Page, who: string, consent: boolean): Promise<void> {
  await page.getByLabel('Your name', { exact: true }).fill(who);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Phone', { exact: true }).fill(phone);
  await page.getByLabel('Preferred way to contact you').selectOption({ label: 'Phone' });
  await page.getByLabel('Your message', { exact: true }).fill(message);
  await page.getByLabel('I agree to be contacted by the clinic about my inquiry').setChecked(consent);
}

function submitContactForm(page: Page) {
  const response = page.waitForResponse(
    (r) => r.request().method() === 'POST' && r.request().resourceType() === 'document',
  );
  return Promise.all([response, page.getByRole('button', { name: 'Send message' }).click()]).then(
    ([r]) => r,
  );
}

test.describe('visitor on a phone', () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

  test('submits the contact form and is thanked', async ({ page }) => {
    await page.goto('/contact');
    await expect(page.getByRole('heading', { name: 'Contact the clinic' })).toBeVisible();

    // Honeypot: present, not shown, left empty.
    const honeypot = page.locator('input[name="website"]');
    await expect(honeypot).toHaveCount(1);
    await expect(honeypot).toBeHidden();
    await expect(honeypot).toHaveValue('');

    // The form fits the phone's width (no sideways scrolling).
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);

    await fillContactForm(page, name, true);
    const response = await submitContactForm(page);
    expect(response.status()).toBeLessThan(400);

    await expect(page.getByRole('heading', { name: 'Thank you' })).toBeVisible();
    await expect(page.getByText('We have received your message')).toBeVisible();
  });

  test('without consent gets a field error, keeps the values and stores nothing', async ({
    page,
  }) => {
    await page.goto('/contact');
    await fillContactForm(page, rejectedName, false);
    const response = await submitContactForm(page);
    expect(response.status()).toBe(422);

    await expect(page.getByRole('heading', { name: 'Contact the clinic' })).toBeVisible();
    await expect(page.locator('.field-error').first()).toBeVisible();
    await expect(page.getByLabel('Your name', { exact: true })).toHaveValue(rejectedName);
    await expect(page.getByLabel('Email', { exact: true })).toHaveValue(email);
    await expect(page.getByLabel('Phone', { exact: true })).toHaveValue(phone);
    await expect(
      page.getByLabel('Preferred way to contact you').locator('option:checked'),
    ).toHaveText('Phone');
    await expect(page.getByLabel('Your message', { exact: true })).toHaveValue(message);
    await expect(
      page.getByLabel('I agree to be contacted by the clinic about my inquiry'),
    ).not.toBeChecked();
    await expect(page.getByRole('heading', { name: 'Thank you' })).toHaveCount(0);
  });
});

test('coordinator converts the inquiry into a patient', async ({ page }) => {
  await login(page, STAFF.coordinator);
  await expect(page.getByRole('heading', { name: 'New inquiries' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Recent patients' })).toBeVisible();
  const nav = staffNav(page);
  for (const link of ['Home', 'Inquiries', 'Patients']) {
    await expect(nav.getByRole('link', { name: link, exact: true })).toBeVisible();
  }
  await expect(page.getByRole('link', { name: 'Staff', exact: true })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Audit log', exact: true })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Log out' })).toBeVisible();

  await goViaNav(page, 'Inquiries');
  const inquiryLink = page.getByRole('table').getByRole('link', { name, exact: true });
  await expect(inquiryLink).toBeVisible();
  // The rejected (no-consent) submission was not stored.
  await expect(page.getByText(rejectedName)).toHaveCount(0);

  await inquiryLink.click();
  await page.waitForURL(/\/inquiries\/[^/?#]+$/);
  await expect(page.getByRole('heading', { name, exact: true })).toBeVisible();
  await expect(page.getByText(email).first()).toBeVisible();
  await expect(page.getByText(phone).first()).toBeVisible();
  await expect(page.getByText(message).first()).toBeVisible();

  // Status form.
  const status = page.getByLabel('Status', { exact: true });
  for (const option of ['New', 'Contacted', 'Converted', 'Closed']) {
    await expect(status.getByRole('option', { name: option, exact: true })).toHaveCount(1);
  }
  await expect(page.getByLabel('Note', { exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Save', exact: true })).toBeVisible();

  // Convert.
  await page.getByLabel('Date of birth').fill(dateOfBirth);
  await page.getByRole('button', { name: 'Convert to patient' }).click();
  await page.waitForURL((url) => /^\/patients\/[^/]+$/.test(url.pathname));
  patientId = lastSegment(page.url());
  expect(patientId).not.toBe('');

  await expect(page.getByRole('heading', { name, exact: true })).toBeVisible();
  for (const section of ['Demographics', 'Contact', 'Emergency contact', 'Weight and height']) {
    await expect(page.getByRole('heading', { name: section, exact: true })).toBeVisible();
  }
  // Only admins get the audit link.
  await expect(page.getByRole('link', { name: 'View audit log' })).toHaveCount(0);
});

test('coordinator finds the patient by part of the name', async ({ page }) => {
  await login(page, STAFF.coordinator);
  await goViaNav(page, 'Patients');
  await expect(page.getByRole('link', { name: 'New patient', exact: true })).toBeVisible();

  await page.getByLabel('Search patients').fill(tag);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  const result = page.getByRole('table').getByRole('link', { name, exact: true });
  await expect(result).toBeVisible();

  await result.click();
  await page.waitForURL((url) => url.pathname === `/patients/${patientId}`);
  await expect(page.getByRole('heading', { name, exact: true })).toBeVisible();
});

test('admin sees the patient audit trail', async ({ page }) => {
  await login(page, STAFF.admin);
  const nav = staffNav(page);
  for (const link of ['Home', 'Inquiries', 'Patients', 'Staff', 'Audit log']) {
    await expect(nav.getByRole('link', { name: link, exact: true })).toBeVisible();
  }

  await goViaNav(page, 'Patients');
  await page.getByLabel('Search patients').fill(tag);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByRole('table').getByRole('link', { name, exact: true }).click();
  await page.waitForURL((url) => url.pathname === `/patients/${patientId}`);
  await expect(page.getByRole('heading', { name, exact: true })).toBeVisible();

  await page.getByRole('link', { name: 'View audit log' }).click();
  await page.waitForURL(
    (url) => url.pathname === '/admin/audit' && url.searchParams.get('patient') === patientId,
  );
  await expect(page.getByRole('heading', { name: 'Audit log', exact: true })).toBeVisible();
  for (const header of ['When', 'Who', 'Action', 'Record', 'Address']) {
    await expect(page.getByRole('columnheader', { name: header, exact: true })).toBeVisible();
  }

  const rows = page.getByRole('row');
  // The admin's own look at the chart a moment ago.
  await expect(
    rows.filter({ hasText: 'patient.read' }).filter({ hasText: /Ada Admin|admin@e2e\.test/ }).first(),
  ).toBeVisible();
  // The coordinator's conversion.
  await expect(rows.filter({ hasText: /inquiry\.convert|patient\.create/ }).first()).toBeVisible();
});

test('therapist is not allowed into the audit log', async ({ page }) => {
  await login(page, STAFF.therapist);
  await expect(page.getByRole('link', { name: 'Audit log', exact: true })).toHaveCount(0);

  const response = await page.goto('/admin/audit');
  expect(response?.status()).toBe(403);
  await expect(page.getByRole('heading', { name: 'Not allowed' })).toBeVisible();

  const filtered = await page.goto(`/admin/audit?patient=${encodeURIComponent(patientId)}`);
  expect(filtered?.status()).toBe(403);
  await expect(page.getByText('patient.read')).toHaveCount(0);
});
