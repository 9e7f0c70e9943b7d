//! Public face of the backend door; pages import from here only.

export type { Backend } from './backend';
export { BackendError, UNEXPECTED } from './error';
export { tauriBackend, OVERVIEW_EVENT } from './tauri';
export type * from './types';
