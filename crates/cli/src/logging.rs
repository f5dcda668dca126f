//! Tracing to stderr, as text or JSON lines.
//!
//! The log is never a reason to fail: a line that cannot be written (standard error
//! closed — a pager that quit, a collector that died — or full) is dropped and counted
//! (`rostersync_log_lines_lost_total`),
//! and the request or run that logged it goes on.

use std::io::{IsTerminal, Write};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

pub fn init(level: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(Stderr)
        // Its own report of a failed write goes to standard error too, through a macro
        // that panics when that fails: a lost sink would take the caller down.
        .log_internal_errors(false);
    // A second initialisation (tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Log lines dropped because standard error could not take them.
const LOST: &str = "rostersync_log_lines_lost_total";

/// Standard error that swallows its failures.
#[derive(Debug, Clone, Copy)]
struct Stderr;

impl<'a> MakeWriter<'a> for Stderr {
    type Writer = Stderr;
    fn make_writer(&'a self) -> Stderr {
        Stderr
    }
}

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if std::io::stderr().lock().write_all(buf).is_err() {
            metrics::counter!(LOST).increment(1);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().lock().flush();
        Ok(())
    }
}
