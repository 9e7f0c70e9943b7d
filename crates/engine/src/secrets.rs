//! Connection secrets. They live in the OS keychain (service `ferry`,
//! account = connection id) and nowhere else Ferry writes. Two fallbacks,
//! both said out loud: the demo's made-up tokens may stay in memory when no
//! keychain answers, and a headless server may pass a secret in
//! `FERRY_SECRET_<CONNECTION_ID>`.

use serde::Serialize;
use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;

pub const SERVICE: &str = "ferry";
/// A keychain that does not answer in this time is treated as unavailable
/// (a locked keyring may otherwise wait forever for a prompt).
const KEYCHAIN_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("no secret stored for connection {0:?}; enter it again in Connections")]
    Missing(String),
    #[error("the OS keychain is not available: {0}")]
    Unavailable(String),
}

/// Whether the keychain can be used, in words for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeychainStatus {
    pub available: bool,
    pub message: String,
}

/// Where a secret was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretSource {
    Keychain,
    Memory,
    Environment,
}

/// Access to connection secrets.
#[derive(Debug)]
pub struct Secrets {
    use_keychain: bool,
    memory: Mutex<HashMap<String, String>>,
}

/// The environment variable a headless run may use for `connection_id`.
pub fn env_var_name(connection_id: &str) -> String {
    let id: String =
        connection_id.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("FERRY_SECRET_{id}")
}

/// Until when (seconds since the epoch) a keychain that did not answer is
/// not asked again: a locked keychain costs one wait, not one per secret.
static UNRESPONSIVE_UNTIL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
const UNRESPONSIVE_FOR_SECS: u64 = 60;

fn epoch_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// `with_timeout` for reads: a keychain that just did not answer is not
/// asked again for a minute (saving and deleting always ask).
fn read_with_timeout<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    if epoch_secs() < UNRESPONSIVE_UNTIL.load(std::sync::atomic::Ordering::SeqCst) {
        return None;
    }
    with_timeout(f)
}

fn with_timeout<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    use std::sync::atomic::Ordering;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    let answer = rx.recv_timeout(KEYCHAIN_TIMEOUT).ok();
    if answer.is_none() {
        UNRESPONSIVE_UNTIL.store(epoch_secs() + UNRESPONSIVE_FOR_SECS, Ordering::SeqCst);
    }
    answer
}

fn describe(e: &keyring::Error) -> String {
    // keyring's messages name the platform problem; they never contain the secret.
    match e {
        keyring::Error::PlatformFailure(inner) => format!("the keychain service failed ({inner})"),
        keyring::Error::NoStorageAccess(inner) => format!("no keychain service is reachable ({inner})"),
        other => other.to_string(),
    }
}

impl Secrets {
    /// The OS keychain (with the environment fallback for reading).
    pub fn os_keychain() -> Self {
        Self { use_keychain: true, memory: Mutex::new(HashMap::new()) }
    }

    /// Memory only: for tests and for the demo where no keychain exists.
    pub fn memory_only() -> Self {
        Self { use_keychain: false, memory: Mutex::new(HashMap::new()) }
    }

    /// Checks that the keychain answers, without changing it.
    pub fn probe(&self) -> KeychainStatus {
        if !self.use_keychain {
            return KeychainStatus { available: false, message: "Ferry was started without the OS keychain.".into() };
        }
        let result = with_timeout(|| {
            keyring::Entry::new(SERVICE, "__ferry_probe__").and_then(|e| match e.get_password() {
                Ok(_) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(e) => Err(e),
            })
        });
        match result {
            Some(Ok(())) => KeychainStatus { available: true, message: "Secrets are kept in the OS keychain.".into() },
            Some(Err(e)) => KeychainStatus { available: false, message: format!("No keychain: {}.", describe(&e)) },
            None => KeychainStatus {
                available: false,
                message: "The OS keychain did not answer within 5 seconds (is it locked?).".into(),
            },
        }
    }

    /// Stores a secret in the keychain.
    pub fn put(&self, connection_id: &str, secret: &str) -> Result<(), SecretError> {
        if !self.use_keychain {
            return Err(SecretError::Unavailable("Ferry was started without the OS keychain".into()));
        }
        let (id, secret) = (connection_id.to_owned(), secret.to_owned());
        match with_timeout(move || keyring::Entry::new(SERVICE, &id).and_then(|e| e.set_password(&secret))) {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => Err(SecretError::Unavailable(describe(&e))),
            None => Err(SecretError::Unavailable("the keychain did not answer within 5 seconds".into())),
        }
    }

    /// Stores a made-up demo token: in the keychain when it answers, else in
    /// memory. Returns where it went.
    pub fn put_demo(&self, connection_id: &str, secret: &str) -> SecretSource {
        match self.put(connection_id, secret) {
            Ok(()) => SecretSource::Keychain,
            Err(_) => {
                self.memory
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(connection_id.to_owned(), secret.to_owned());
                SecretSource::Memory
            }
        }
    }

    /// Reads a secret: keychain, then memory (demo), then the environment.
    pub fn get(&self, connection_id: &str) -> Result<(String, SecretSource), SecretError> {
        let mut keychain_problem = None;
        if self.use_keychain {
            let id = connection_id.to_owned();
            match read_with_timeout(move || keyring::Entry::new(SERVICE, &id).and_then(|e| e.get_password())) {
                Some(Ok(s)) => return Ok((s, SecretSource::Keychain)),
                Some(Err(keyring::Error::NoEntry)) => {}
                Some(Err(e)) => keychain_problem = Some(describe(&e)),
                None => keychain_problem = Some("the keychain did not answer within 5 seconds".into()),
            }
        }
        if let Some(s) = self.memory.lock().unwrap_or_else(|e| e.into_inner()).get(connection_id) {
            return Ok((s.clone(), SecretSource::Memory));
        }
        if let Ok(s) = std::env::var(env_var_name(connection_id)) {
            if !s.is_empty() {
                return Ok((s, SecretSource::Environment));
            }
        }
        match keychain_problem {
            Some(p) => Err(SecretError::Unavailable(p)),
            None => Err(SecretError::Missing(connection_id.to_owned())),
        }
    }

    /// Deletes a connection's secret wherever Ferry keeps it.
    pub fn delete(&self, connection_id: &str) -> Result<(), SecretError> {
        self.memory.lock().unwrap_or_else(|e| e.into_inner()).remove(connection_id);
        if !self.use_keychain {
            return Ok(());
        }
        let id = connection_id.to_owned();
        match with_timeout(move || keyring::Entry::new(SERVICE, &id).and_then(|e| e.delete_credential())) {
            Some(Ok(())) | Some(Err(keyring::Error::NoEntry)) => Ok(()),
            Some(Err(e)) => Err(SecretError::Unavailable(describe(&e))),
            None => Err(SecretError::Unavailable("the keychain did not answer within 5 seconds".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_are_shell_safe() {
        assert_eq!(env_var_name("demo-shop"), "FERRY_SECRET_DEMO_SHOP");
    }

    #[test]
    fn memory_store_round_trip() {
        let s = Secrets::memory_only();
        assert_eq!(s.put_demo("x", "tok"), SecretSource::Memory, "no keychain: the demo token stays in memory");
        assert_eq!(s.get("x"), Ok(("tok".into(), SecretSource::Memory)));
        s.delete("x").expect("delete");
        assert_eq!(s.get("x"), Err(SecretError::Missing("x".into())));
        assert!(!s.probe().available);
    }
}
