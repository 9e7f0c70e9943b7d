//! Helpers for the page tests: mount a component, let its loads settle,
//! find elements by `data-testid`, and clean up after each test.

import { flushSync, mount, unmount, type Component } from 'svelte';

let mounted: ReturnType<typeof mount>[] = [];

/** Lets promises and a timer tick run, then applies Svelte's updates. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  await new Promise((r) => setTimeout(r, 0));
  flushSync();
}

export const byTestId = (root: HTMLElement, id: string) => root.querySelector<HTMLElement>(`[data-testid="${id}"]`);

/** Mounts `component` with `props` in a fresh element, without waiting (to see a loading state). */
export function mountNow<P extends Record<string, unknown>>(component: Component<P>, props: P): HTMLElement {
  const target = document.createElement('div');
  document.body.appendChild(target);
  mounted.push(mount(component, { target, props }));
  return target;
}

/** Mounts `component` with `props` in a fresh element and lets its first loads settle. */
export async function render<P extends Record<string, unknown>>(component: Component<P>, props: P): Promise<HTMLElement> {
  const target = mountNow(component, props);
  await settle();
  return target;
}

/** Unmounts everything `render` mounted (call in `afterEach`). */
export function cleanup(): void {
  for (const m of mounted) unmount(m);
  mounted = [];
  document.body.innerHTML = '';
}
