//! The binary's own commands: configuration errors and migrations.

use std::process::Command;

use store::testing::TestDatabase;

use crate::harness::BIN;

#[test]
fn a_bad_configuration_is_refused_with_every_problem_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("rostersync.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:1\"\nunknown_key = 1\n").expect("write");
    let out = Command::new(BIN)
        .args(["serve", "--listen", "not-an-address", "--log-format", "xml"])
        .arg("--config")
        .arg(&config)
        .env(
            "ROSTERSYNC_DATABASE_URL",
            "mysql://root:hunter2@localhost/x",
        )
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "unknown_key (from file",
        "listen (from flag --listen)",
        "log.format (from flag --log-format)",
        "database_url (from environment ROSTERSYNC_DATABASE_URL)",
    ] {
        assert!(err.contains(needle), "{needle:?} missing from:\n{err}");
    }
    assert!(!err.contains("hunter2"), "a password leaked:\n{err}");
}

#[tokio::test]
async fn migrate_applies_reports_and_reverts_on_sqlite() {
    let db = TestDatabase::sqlite();
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(args)
            .arg("--database-url")
            .arg(db.url())
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&["migrate", "up"]);
    let status = run(&["migrate", "status"]);
    let applied: Vec<&str> = status
        .lines()
        .filter_map(|l| l.strip_prefix("applied"))
        .map(str::trim)
        .collect();
    assert!(applied.len() >= 6, "{status}");
    assert!(
        !status.lines().any(|l| l.starts_with("pending")),
        "{status}"
    );
    let last = applied.last().copied().unwrap_or_default().to_owned();
    run(&["migrate", "down", "--steps", "1"]);
    let status = run(&["migrate", "status"]);
    assert!(status.contains(&format!("pending  {last}")), "{status}");
    assert_eq!(
        status.lines().filter(|l| l.starts_with("applied")).count(),
        applied.len() - 1,
        "{status}"
    );
}
