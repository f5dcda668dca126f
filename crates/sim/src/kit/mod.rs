//! What the three simulators share: serving on a loopback port and stopping
//! ([`serve`]), fault injection ([`fault`]), the log of requests ([`log`]), and the
//! generated names of people ([`names`]).

pub mod fault;
pub mod log;
pub(crate) mod names;
pub mod serve;

/// A lock that a panic elsewhere does not poison for the tests that follow.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
