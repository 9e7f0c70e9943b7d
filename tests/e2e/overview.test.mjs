// E2E: drives the real Ferry window through tauri-driver (already listening
// on 127.0.0.1:4444). The app runs in demo mode with automatic syncing off,
// so nothing is posted until the test presses "Sync now".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { remote } from 'webdriverio';

const APP = process.env.FERRY_APP_BINARY;
const SCREENSHOT = process.env.FERRY_E2E_SCREENSHOT;

/** The posted-total element holds only the number; NaN while it is absent or unreadable. */
async function postedTotal(browser) {
  const el = await browser.$('[data-testid="posted-total"]');
  if (!(await el.isDisplayed())) return Number.NaN;
  const text = (await el.getText()).trim();
  return text === '' ? Number.NaN : Number(text);
}

test('Sync now posts the demo orders', { timeout: 150_000 }, async () => {
  assert.ok(APP, 'FERRY_APP_BINARY must name the built app binary');

  const browser = await remote({
    hostname: '127.0.0.1',
    port: 4444,
    logLevel: 'warn',
    capabilities: {
      browserName: 'wry',
      'wdio:enforceWebDriverClassic': true,
      'tauri:options': { application: APP },
    },
  });

  try {
    await browser.waitUntil(
      async () =>
        (await postedTotal(browser)) === 0 && (await browser.$$('[data-testid^="card-"]')).length > 0,
      {
        timeout: 30_000,
        interval: 250,
        timeoutMsg: 'the overview should load with 0 orders posted (auto-sync is off) and at least one connection card',
      },
    );

    const syncAll = await browser.$('[data-testid="sync-all"]');
    await syncAll.waitForClickable({ timeout: 10_000 });
    await syncAll.click();

    await browser.waitUntil(async () => (await postedTotal(browser)) > 0, {
      timeout: 60_000,
      interval: 500,
      timeoutMsg: 'after Sync now the demo orders should be posted and the total should rise above 0',
    });

    const posted = await postedTotal(browser);
    assert.ok(posted > 0, `posted total should be positive after syncing, got ${posted}`);
  } finally {
    try {
      if (SCREENSHOT) await browser.saveScreenshot(SCREENSHOT);
    } catch (err) {
      console.error(`could not save the screenshot to ${SCREENSHOT}: ${err}`);
    } finally {
      await browser.deleteSession();
    }
  }
});
