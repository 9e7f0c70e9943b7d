//! Pages that show backend lists (conflicts, failed writes, alerts) load
//! once, then again whenever the backend says something changed.

import type { Backend } from './backend';

/** Calls `load` now and after every overview event; returns the stop function (for `onMount`). */
export function follow(backend: Backend, load: () => unknown): () => void {
  let unlisten: (() => void) | null = null;
  let destroyed = false;
  void load();
  backend
    .onOverview(() => void load())
    .then((stop) => {
      if (destroyed) stop();
      else unlisten = stop;
    })
    .catch(() => {}); // the page's own load reports what went wrong
  return () => {
    destroyed = true;
    unlisten?.();
  };
}
