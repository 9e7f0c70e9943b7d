import { afterEach, describe, expect, it } from 'vitest';
import { byTestId, cleanup, render, settle } from '../testing';
import App from '../../App.svelte';
import { FakeBackend } from '../backend/fake';
import { connection, demoOverview } from '../backend/fixture';

afterEach(cleanup);

const current = (root: HTMLElement) => root.querySelector('[aria-current="page"]')?.textContent?.trim();

describe('The app shell', () => {
  it('offers the demo or real systems on a first start, once', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.showWelcome = true;
    const root = await render(App, { backend });
    expect(byTestId(root, 'welcome')?.textContent).toContain('Try the demo');
    (byTestId(root, 'welcome-connect') as HTMLButtonElement).click();
    await settle();
    expect(byTestId(root, 'welcome')).toBeNull();
    expect(current(root)).toBe('Connections');
    expect(backend.showWelcome, 'the choice is remembered').toBe(false);
  });

  it('stays on the Overview when the demo is chosen, and shows no welcome otherwise', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.showWelcome = true;
    const root = await render(App, { backend });
    (byTestId(root, 'welcome-demo') as HTMLButtonElement).click();
    await settle();
    expect(current(root)).toBe('Overview');
    cleanup();
    const again = await render(App, { backend });
    expect(byTestId(again, 'welcome')).toBeNull();
  });

  it('goes to the page an alert or the tray asks for, and ignores unknown pages', async () => {
    const backend = new FakeBackend(demoOverview());
    const root = await render(App, { backend });
    backend.navigate('conflicts');
    await settle();
    expect(current(root)).toContain('Conflicts');
    backend.navigate('mappings');
    await settle();
    expect(current(root)).toBe('Mappings');
    backend.navigate('../../etc');
    await settle();
    expect(current(root)).toBe('Mappings');
  });

  it("shows each card's day and each feed's watermark, and links failures to their page", async () => {
    const overview = demoOverview({
      connections: [
        connection({
          id: 'shop',
          name: 'Demo Shop',
          failed: 1,
          recentFailures: [{ at: '2025-01-01T11:00:00Z', message: 'Order #1021 could not be posted' }],
          today: { runs: 12, read: 340, written: 57, failed: 1 },
          feeds: [
            { entity: 'order', readUpTo: '2025-01-01T11:59:00Z' },
            { entity: 'customer', readUpTo: null },
          ],
        }),
      ],
    });
    const backend = new FakeBackend(overview);
    const root = await render(App, { backend });
    expect(byTestId(root, 'today-shop')?.textContent?.replace(/\s+/g, ' ')).toContain('Today: 12 runs · 340 read · 57 written · 1 failed');
    const feeds = byTestId(root, 'feeds-shop')?.textContent ?? '';
    expect(feeds).toContain('order');
    expect(feeds).toContain('customer not yet');
    (byTestId(root, 'failures-shop') as HTMLButtonElement).click();
    await settle();
    expect(current(root)).toContain('Failed writes');
  });
});
