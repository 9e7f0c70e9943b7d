//! Ferry's engine. Everything outside this crate (the desktop shell, the
//! CLI, the tests) goes through [`api`]; the rest is how it works inside:
//! the scheduler, the flows, the outbox worker and the keychain.

mod alerts;
pub mod api;
#[cfg(feature = "demo")]
pub mod demo;
mod flows;
pub mod health;
mod live;
pub mod lock;
mod scheduler;
pub mod secrets;

pub use alerts::Alert;
pub use api::*;
