//! The bench's table: one column per database, the target ratios last.

use std::time::Duration;

use store::tables::ROSTER_TABLES;

use super::{BenchArgs, BenchDatabase, Figures, SlowPull};

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

/// The table, one column per database.
pub(super) fn render(
    args: &BenchArgs,
    results: &[(BenchDatabase, Figures)],
    slow: Option<&SlowPull>,
) -> String {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut row = |label: &str, cell: &dyn Fn(&Figures) -> String| {
        rows.push((
            label.to_owned(),
            results.iter().map(|(_, f)| cell(f)).collect(),
        ));
    };
    row("1. pull only", &|f| secs(f.pull));
    row("   records / requests", &|f| {
        format!("{} / {}", f.records, f.requests)
    });
    row("   requests per 1,000 students", &|f| {
        format!(
            "{:.1}",
            f.requests as f64 * 1000.0 / args.students.max(1) as f64
        )
    });
    row("2. raw bulk load", &|f| secs(f.bulk));
    row("   rows (roster, change log, district, runs)", &|f| {
        f.bulk_rows.to_string()
    });
    row("3. first sync", &|f| secs(f.first));
    row("   pull and plan", &|f| secs(f.first_phases[0]));
    row("   checks", &|f| secs(f.first_phases[1]));
    row("   apply", &|f| secs(f.first_phases[2]));
    row("   plan items", &|f| f.plan_items.to_string());
    row("4. no-change resync", &|f| secs(f.resync));
    row("   pull and plan / checks / apply", &|f| {
        format!(
            "{} / {} / {}",
            secs(f.resync_phases[0]),
            secs(f.resync_phases[1]),
            secs(f.resync_phases[2])
        )
    });
    row("   roster and change-log rows written", &|f| {
        f.resync_written.to_string()
    });
    row("   staged records rewritten", &|f| {
        f.resync_staged.to_string()
    });
    row("5. resync, students changed", &|f| {
        format!("{} ({} students)", secs(f.changed), f.changed_students)
    });
    row("   plan items / change-log rows", &|f| {
        format!("{} / {}", f.changed_items, f.changed_written)
    });
    row("6. spot sync service p50 / p99", &|f| {
        format!("{} / {}", ms(f.spot_p50), ms(f.spot_p99))
    });
    row(
        "   source time p50 (subtracted)",
        &|f| ms(f.spot_source_p50),
    );
    row(
        &format!("   calls/s, {} callers", args.spot_callers),
        &|f| {
            format!(
                "{:.0}{}",
                f.spot_rate,
                if f.spot_errors > 0 {
                    format!(" ({} failed)", f.spot_errors)
                } else {
                    String::new()
                }
            )
        },
    );
    row("7. search p50 / p99 (name, number, id, e-mail)", &|f| {
        let missed = if f.search_missed > 0 {
            format!(" ({} missed)", f.search_missed)
        } else {
            String::new()
        };
        format!(
            "{} / {} of {}{missed}",
            ms(f.search_p50),
            ms(f.search_p99),
            f.search_calls
        )
    });
    row("8. peak RSS: first sync / resync", &|f| {
        format!("{} / {}", mib(f.first_peak), mib(f.resync_peak))
    });
    let roster_bytes = |f: &Figures| {
        f.sizes
            .iter()
            .filter(|t| ROSTER_TABLES.contains(&t.table.as_str()) && t.table != "change_log")
            .map(|t| t.bytes)
            .sum::<u64>()
    };
    let bytes_of = |f: &Figures, table: &str| {
        f.sizes
            .iter()
            .find(|t| t.table == table)
            .map_or(0, |t| t.bytes)
    };
    row("   bytes: roster tables", &|f| mib(roster_bytes(f)));
    for table in ["change_log", "run_plan", "staged_records", "sync_runs"] {
        row(&format!("   bytes: {table}"), &|f| mib(bytes_of(f, table)));
    }
    row("ratio first / (pull + bulk)   ≤ 1.5", &|f| {
        format!("{:.2}", ratio(f.first, f.pull + f.bulk))
    });
    row("ratio apply / bulk            ≤ 2", &|f| {
        format!("{:.2}", ratio(f.first_phases[2], f.bulk))
    });
    row("ratio resync / pull           ≤ 1.1", &|f| {
        format!("{:.2}", ratio(f.resync, f.pull))
    });
    row("ratio (plans + log) / roster  ≤ 1", &|f| {
        format!(
            "{:.2}",
            (bytes_of(f, "run_plan") + bytes_of(f, "change_log")) as f64
                / roster_bytes(f).max(1) as f64
        )
    });

    let label_width = rows
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    let width = rows
        .iter()
        .flat_map(|(_, cells)| cells.iter().map(|c| c.chars().count()))
        .chain(results.iter().map(|(d, _)| d.name().len()))
        .max()
        .unwrap_or(0);
    let mut out = format!(
        "rostersync bench: {} students in {} schools (seed {}), PowerSchool simulator over the loopback\n",
        args.students, args.schools, args.seed
    );
    out.push_str(&format!("{:label_width$}", ""));
    for (d, _) in results {
        out.push_str(&format!("  {:>width$}", d.name()));
    }
    out.push('\n');
    for (label, cells) in rows {
        out.push_str(&format!("{label:label_width$}"));
        for c in cells {
            out.push_str(&format!("  {c:>width$}"));
        }
        out.push('\n');
    }
    if let Some(slow) = slow {
        out.push_str(&format!(
            "source answering in {} per request, pull only: {} ({:.1} min), {} requests ({:.1} per 1,000 students), at most {} in flight (a district's bound: {}); ratio (time × 100,000 / students) / 10 min ≤ 1: {:.2}\n",
            ms(slow.latency),
            secs(slow.took),
            slow.took.as_secs_f64() / 60.0,
            slow.requests,
            slow.requests as f64 * 1000.0 / args.students.max(1) as f64,
            slow.most_in_flight,
            slow.bound,
            slow.took.as_secs_f64() / 600.0 * 100_000.0 / args.students.max(1) as f64,
        ));
    }
    out
}
