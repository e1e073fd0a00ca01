import { test, expect } from '@playwright/test';
import { PASSWORD, STAFF, login } from './helpers';

test('wrong password shows an error and does not log in', async ({ page }) => {
  await page.goto('/login');
  await page.getByLabel('Email', { exact: true }).fill(STAFF.coordinator);
  await page.getByLabel('Password', { exact: true }).fill(`${PASSWORD} nope`);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();

  await expect(page.getByText('Email or password is incorrect')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Home', exact: true })).toHaveCount(0);
  // The password is not echoed back into the form.
  await expect(page.getByLabel('Password', { exact: true })).toHaveValue('');
});

test('staff pages are closed to visitors', async ({ page }) => {
  await page.goto('/patients');
  await expect(page.getByRole('heading', { name: 'Patients', exact: true })).toHaveCount(0);
  await expect(page.getByLabel('Search patients')).toHaveCount(0);
});

test('log out ends the session', async ({ page }) => {
  await login(page, STAFF.prescriber);
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForLoadState();
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Home', exact: true })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Log out' })).toHaveCount(0);
});
