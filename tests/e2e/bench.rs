//! `rostersync bench` at a small size, on both databases, so the benchmark cannot rot:
//! it runs to its end and prints every row of its table with figures that agree with
//! each other. No timing is asserted here.

use std::process::Command;

use crate::harness::BIN;

#[test]
fn the_bench_prints_its_whole_table_on_both_databases() {
    let admin = std::env::var(store::testing::POSTGRES_ADMIN_URL_VAR)
        .unwrap_or_else(|_| store::testing::DEFAULT_POSTGRES_ADMIN_URL.to_owned());
    let dir = tempfile::tempdir().expect("dir");
    let out = Command::new(BIN)
        .args([
            "bench",
            "--students",
            "300",
            "--schools",
            "3",
            "--spot-calls",
            "40",
        ])
        .args(["--postgres", &admin, "--dir"])
        .arg(dir.path())
        .output()
        .expect("run rostersync bench");
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "the bench failed:\n{table}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let header = table.lines().nth(1).expect("a header");
    assert!(
        header.contains("SQLite") && header.contains("PostgreSQL"),
        "{table}"
    );
    for label in [
        "1. pull only",
        "2. raw bulk load",
        "3. first sync",
        "   apply",
        "4. no-change resync",
        "5. resync, students changed",
        "6. spot sync service p50 / p99",
        "7. search p50 / p99",
        "8. peak RSS",
        "   bytes: run_plan",
        "ratio first / (pull + bulk)",
        "ratio apply / bulk",
        "ratio resync / pull",
        "ratio (plans + log) / roster",
    ] {
        assert!(table.contains(label), "no {label:?} in\n{table}");
    }
    let cells = |label: &str| -> Vec<String> {
        let line = table
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no {label:?}"));
        line[label.len()..]
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect()
    };
    // A resync with nothing changed writes nothing on either database.
    assert_eq!(
        cells("   roster and change-log rows written"),
        ["0", "0"],
        "{table}"
    );
    // Both databases hold the same roster: the raw load moved the same rows.
    let rows = cells("   rows (roster, change log, district, runs)");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0], rows[1], "{table}");
    assert!(rows[0].parse::<u64>().expect("a count") > 300, "{table}");
    // Every spot sync answered; every search by an exact key found its student.
    assert!(!table.contains("failed)"), "{table}");
    assert!(!table.contains("missed)"), "{table}");
    // The slow source: pulled whole, never more requests in flight than a district's
    // bound, and more than one at a time.
    let slow = table
        .lines()
        .find(|l| l.starts_with("source answering in 100.00 ms per request"))
        .unwrap_or_else(|| panic!("no slow-source line in\n{table}"));
    let number_after = |word: &str| -> u64 {
        slow.split(word)
            .nth(1)
            .and_then(|rest| {
                rest.split(|c: char| !c.is_ascii_digit())
                    .find(|w| !w.is_empty())
            })
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no number after {word:?} in {slow}"))
    };
    let (most, bound) = (number_after("at most "), number_after("bound: "));
    assert!(most > 1 && most <= bound, "{slow}");
}
