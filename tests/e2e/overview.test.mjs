// E2E: drives the real Ferry window through tauri-driver (already listening
// on 127.0.0.1:4444). The app runs in demo mode with automatic syncing off,
// so nothing is posted until the test presses "Sync now".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { remote } from 'webdriverio';

const APP = process.env.FERRY_APP_BINARY;
const SCREENSHOT = process.env.FERRY_E2E_SCREENSHOT;

/** A WebDriver session on a fresh start of the app. */
function session() {
  return remote({
    hostname: '127.0.0.1',
    port: 4444,
    logLevel: 'warn',
    capabilities: {
      browserName: 'wry',
      'wdio:enforceWebDriverClassic': true,
      'tauri:options': { application: APP },
    },
  });
}

/** The text of the element with `data-testid` = `id`, or '' when there is none. */
async function textOf(browser, id) {
  const el = await browser.$(`[data-testid="${id}"]`);
  return (await el.isExisting()) ? (await el.getText()).trim() : '';
}

/** The page the navigation marks as current. */
async function currentPage(browser) {
  const el = await browser.$('[aria-current="page"]');
  return (await el.isExisting()) ? (await el.getText()).trim() : '';
}

/** Whether a dunst notification server can be driven here. */
function hasDunst() {
  try {
    execFileSync('dunstctl', ['is-paused'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The posted-total element holds only the number; NaN while it is absent or unreadable. */
async function postedTotal(browser) {
  const el = await browser.$('[data-testid="posted-total"]');
  if (!(await el.isDisplayed())) return Number.NaN;
  const text = (await el.getText()).trim();
  return text === '' ? Number.NaN : Number(text);
}

test('Sync now posts the demo orders', { timeout: 150_000 }, async () => {
  assert.ok(APP, 'FERRY_APP_BINARY must name the built app binary');

  const browser = await session();

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

test('Conflicts are decided by hand in the inbox', { timeout: 150_000 }, async () => {
  const browser = await session();
  const text = (id) => textOf(browser, id);
  try {
    // Alerts of earlier runs of the app are not this one's to click.
    if (hasDunst()) execFileSync('dunstctl', ['close-all']);
    const syncAll = await browser.$('[data-testid="sync-all"]');
    await syncAll.waitForClickable({ timeout: 30_000 });
    await syncAll.click();
    // The demo stages a price and a title changed differently on both sides.
    await browser.waitUntil(async () => (await text('conflicts-badge')) === '2', {
      timeout: 60_000,
      interval: 500,
      timeoutMsg: 'after Sync now the navigation should show 2 open conflicts',
    });
    await (await browser.$('[data-testid="nav-conflicts"]')).click();
    await browser.waitUntil(async () => (await browser.$$('[data-testid="conflict-list"] li')).length === 2, {
      timeout: 10_000,
      timeoutMsg: 'the inbox should list the 2 conflicts',
    });
    const shots = process.env.FERRY_E2E_SCREENSHOT_DIR;
    if (shots) await browser.saveScreenshot(`${shots}/conflicts.png`);
    const before = await text('conflict-detail');
    assert.match(before, /says/, 'the conflict is shown side by side');
    await (await browser.$('[data-testid="keep-erp"]')).click();
    await browser.waitUntil(async () => (await text('conflicts-done')).includes('kept'), {
      timeout: 10_000,
      timeoutMsg: 'deciding should say what was kept',
    });
    await browser.waitUntil(async () => (await text('conflicts-badge')) === '1', {
      timeout: 30_000,
      interval: 500,
      timeoutMsg: 'one conflict should be left',
    });
    await (await browser.$('[data-testid="show-history"]')).click();
    assert.match(await text('history'), /kept the ERP's value/, 'the decision is kept as history');

    // The other one: keep the store's value by hand; it must reach the emulated ERP.
    await browser.waitUntil(async () => (await browser.$$('[data-testid="conflict-list"] li')).length === 1, {
      timeout: 10_000,
      timeoutMsg: 'one open conflict should be listed',
    });
    await (await browser.$('[data-testid="conflict-list"] li')).click();
    await browser.waitUntil(async () => (await text('store-value')).length > 0, { timeout: 10_000 });
    const decided = await text('conflict-detail');
    const storeValue = await text('store-value');
    const keepStore = await browser.$('[data-testid="keep-store"]');
    await keepStore.waitForClickable({ timeout: 10_000 });
    await keepStore.click();
    try {
      await browser.waitUntil(async () => !(await (await browser.$('[data-testid="conflicts-badge"]')).isExisting()), {
        timeout: 30_000,
        interval: 500,
        timeoutMsg: 'no conflict should be left open',
      });
    } catch (e) {
      await browser.saveScreenshot('target-e2e/debug-conflicts.png');
      throw new Error(`${e.message}; decided ${JSON.stringify(decided)} store ${JSON.stringify(storeValue)}`);
    }

    // The demo's gift-card order names a SKU the ERP does not know: parked with the ERP's words.
    await (await browser.$('[data-testid="nav-outbox"]')).click();
    await browser.waitUntil(async () => (await text('dead-letters')).includes('GIFTCARD-50'), {
      timeout: 30_000,
      interval: 500,
      timeoutMsg: 'the failed gift-card order should be listed with the ERP\'s message',
    });
    if (shots) await browser.saveScreenshot(`${shots}/failed-writes.png`);
    // ...and the failure was a desktop alert: a Notify call on the session D-Bus.
    const log = process.env.FERRY_E2E_NOTIFY_LOG;
    if (log) {
      await browser.waitUntil(async () => readFileSync(log, 'utf8').includes('could not be posted'), {
        timeout: 15_000,
        interval: 500,
        timeoutMsg: 'the failed order should have raised a desktop notification (org.freedesktop.Notifications.Notify)',
      });
    }
    // Clicking the alert opens the page it is about (the notification
    // server's default action; dunst stands in for the desktop's).
    if (log && hasDunst()) {
      await (await browser.$('[data-testid="nav-overview"]')).click();
      execFileSync('dunstctl', ['action', '0']);
      await browser.waitUntil(async () => /Failed writes|Conflicts/.test(await currentPage(browser)), {
        timeout: 15_000,
        interval: 250,
        timeoutMsg: 'clicking the desktop alert should open the page it is about',
      });
    }
    await (await browser.$('[data-testid="nav-notifications"]')).click();
    await browser.waitUntil(async () => (await text('notification-list')).length > 0, {
      timeout: 10_000,
      timeoutMsg: 'the alert log should list the alerts raised',
    });
    if (shots) await browser.saveScreenshot(`${shots}/notifications.png`);

    // Activity: the journal, searched by the gift-card SKU.
    await (await browser.$('[data-testid="nav-activity"]')).click();
    await (await browser.$('[data-testid="search"]')).setValue('GIFTCARD-50');
    await (await browser.$('[data-testid="apply"]')).click();
    // The list is virtualised: read what it holds, then look at the screenshot.
    const listed = () => browser.execute(() => document.querySelector('[data-testid="activity-list"]')?.textContent ?? '');
    await browser.waitUntil(async () => (await listed()).includes('GIFTCARD-50'), {
      timeout: 15_000,
      interval: 500,
      timeoutMsg: 'searching the journal for the SKU should find the failed order',
    });
    if (shots) await browser.saveScreenshot(`${shots}/activity.png`);
    // innerText is what is rendered (not display:none or hidden); the screenshot shows the rest.
    const shown = await browser.execute(() => document.querySelector('[data-testid="activity-list"] li')?.innerText ?? '');
    assert.match(shown, /GIFTCARD-50/, `the found line is shown, not only in the page: ${JSON.stringify(shown)}`);

    // Checks: the gift-card order is the one store order missing in the ERP.
    await (await browser.$('[data-testid="nav-checks"]')).click();
    await (await browser.$('[data-testid="reconcile"]')).click();
    await browser.waitUntil(async () => (await text('report')).length > 0, {
      timeout: 30_000,
      interval: 500,
      timeoutMsg: 'the comparison should report',
    });
    assert.match(await text('drift'), /is not in the ERP/, 'the failed gift-card order is found missing');
    await (await browser.$('[data-testid="dry-run"]')).click();
    await browser.waitUntil(async () => (await text('preview')).length > 0 || (await text('nothing-to-do')).length > 0, {
      timeout: 30_000,
      interval: 500,
      timeoutMsg: 'the preview should answer',
    });
    if (shots) await browser.saveScreenshot(`${shots}/checks.png`);

    // The store's value, kept by hand above, is now the ERP's (asked over the ERP's own API).
    await (await browser.$('[data-testid="nav-connections"]')).click();
    const erpUrl = await browser.$('[data-testid="url-demo-erp"]');
    await erpUrl.waitForDisplayed({ timeout: 10_000 });
    const base = (await erpUrl.getText()).trim();
    const erp = async (path) => {
      const res = await fetch(`${base}${path}`, { headers: { Authorization: 'token demo_key:demo_secret' } });
      return res.ok ? (await res.json()).data : null;
    };
    const isPrice = /price/i.test(decided);
    let seen = '';
    await browser.waitUntil(
      async () => {
        if (isPrice) {
          const q = new URLSearchParams({ fields: JSON.stringify(['price_list_rate']), filters: JSON.stringify([['item_code', '=', 'MUG-01']]) });
          const rows = (await erp(`/api/resource/Item%20Price?${q}`)) ?? [];
          seen = rows.map((r) => String(r.price_list_rate)).join(',');
          return rows.some((r) => Number(r.price_list_rate) === Number(storeValue.split(' ')[0]));
        }
        const item = await erp('/api/resource/Item/MUG-02');
        seen = item?.item_name ?? '';
        return seen === storeValue;
      },
      { timeout: 30_000, interval: 500, timeoutMsg: `the store's value ${storeValue} should reach the ERP (it has ${seen})` },
    );
  } finally {
    await browser.deleteSession();
  }
});

test('A failed order is replayed after its SKU is mapped, and reaches the ERP once', { timeout: 150_000 }, async () => {
  const browser = await session();
  const text = (id) => textOf(browser, id);
  const shots = process.env.FERRY_E2E_SCREENSHOT_DIR;
  try {
    const syncAll = await browser.$('[data-testid="sync-all"]');
    await syncAll.waitForClickable({ timeout: 30_000 });
    await syncAll.click();
    // The gift-card order fails: the ERP knows the gift card as GC-50, not GIFTCARD-50.
    await (await browser.$('[data-testid="nav-mappings"]')).click();
    await browser.waitUntil(async () => (await text('unmapped')).includes('GIFTCARD-50'), {
      timeout: 60_000,
      interval: 500,
      timeoutMsg: 'the Mappings page should list GIFTCARD-50 as needing a mapping, with the ERP\'s words',
    });
    assert.match(await text('unmapped'), /Could not find Item Code: GIFTCARD-50/);
    await (await browser.$('[data-testid="map-to-GIFTCARD-50"]')).setValue('GC-50');
    if (shots) await browser.saveScreenshot(`${shots}/mappings.png`);
    await (await browser.$('[data-testid="map-GIFTCARD-50"]')).click();
    await browser.waitUntil(async () => (await text('mappings-done')).includes('queued again'), {
      timeout: 15_000,
      interval: 250,
      timeoutMsg: 'mapping should say the failed order is queued again',
    });
    assert.match(await text('mapping-list'), /GIFTCARD-50.*GC-50/);
    // The replayed order goes out on the sync the mapping started.
    await (await browser.$('[data-testid="nav-outbox"]')).click();
    await browser.waitUntil(async () => (await text('outbox-empty')).length > 0, {
      timeout: 60_000,
      interval: 500,
      timeoutMsg: 'after mapping, the failed gift-card order should be written and leave Failed writes',
    });
    // The emulated ERP holds it once, under its own item code.
    await (await browser.$('[data-testid="nav-connections"]')).click();
    const erpUrl = await browser.$('[data-testid="url-demo-erp"]');
    await erpUrl.waitForDisplayed({ timeout: 10_000 });
    const base = (await erpUrl.getText()).trim();
    const query = new URLSearchParams({
      fields: JSON.stringify(['name']),
      filters: JSON.stringify([['Sales Order Item', 'item_code', '=', 'GC-50']]),
    });
    const res = await fetch(`${base}/api/resource/Sales%20Order?${query}`, {
      headers: { Authorization: 'token demo_key:demo_secret' }, // the demo ERP's made-up key
    });
    assert.equal(res.status, 200, await res.clone().text());
    const { data } = await res.json();
    assert.equal(data.length, 1, `exactly one sales order with GC-50: ${JSON.stringify(data)}`);
  } finally {
    await browser.deleteSession();
  }
});

test('A connection added in the window is checked, and its secret lands in the keychain only', { timeout: 150_000 }, async () => {
  const browser = await session();
  const SECRET = 'shpat_demo_0000000000000000'; // the demo shop's made-up token
  try {
    const nav = await browser.$('[data-testid="nav-connections"]');
    await nav.waitForClickable({ timeout: 30_000 });
    await nav.click();
    const shopUrl = await browser.$('[data-testid="url-demo-shop"]');
    await shopUrl.waitForDisplayed({ timeout: 10_000 });
    const url = (await shopUrl.getText()).trim();
    await (await browser.$('[data-testid="name"]')).setValue('Second Shop');
    await (await browser.$('[data-testid="url"]')).setValue(url);
    await (await browser.$('[data-testid="secret"]')).setValue(SECRET);
    await (await browser.$('[data-testid="add"]')).click();
    // The app runs the demo: a connection added now is saved for real use, for the next start.
    await browser.waitUntil(async () => (await (await browser.$('[data-testid="connections-done"]')).isExisting()), {
      timeout: 30_000,
      interval: 500,
      timeoutMsg: 'the checked connection should be saved',
    });
    assert.match(await (await browser.$('[data-testid="connections-done"]')).getText(), /next start/);
    const shots = process.env.FERRY_E2E_SCREENSHOT_DIR;
    await browser.execute(() => window.scrollTo(0, 0));
    if (shots) await browser.saveScreenshot(`${shots}/connections.png`);

    // Another process finds the secret in the keychain (not in memory)...
    const cli = process.env.FERRY_CLI_BINARY;
    const data = process.env.FERRY_E2E_DATA_DIR;
    if (cli && data && existsSync(cli)) {
      const listed = execFileSync(cli, ['--data-dir', data, 'connections', 'list'], { encoding: 'utf8' });
      assert.match(listed, /second-shop .*\(secret set\)/, listed);
      assert.ok(!listed.includes(SECRET), 'the list never shows a secret');
      // ...and nowhere in the journal.
      for (const f of ['journal.sqlite', 'journal.sqlite-wal']) {
        const path = `${data}/${f}`;
        if (existsSync(path)) assert.ok(!readFileSync(path).includes(SECRET), `no secret in ${f}`);
      }
    }
  } finally {
    await browser.deleteSession();
  }
});
