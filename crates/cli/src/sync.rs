//! `rostersync sync …`: district runs through a running server.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use proto::v1 as pb;
use tokio_stream::StreamExt;

use crate::changes::{exclusion, ChangePrinter};
use crate::client::{connect, status_error};

#[derive(Debug, clap::Subcommand)]
pub enum SyncCommand {
    /// Start a district run (plan, check thresholds, apply).
    Start {
        #[arg(long)]
        district: String,
        /// Stop at the plan: report what would change, write nothing else.
        #[arg(long)]
        dry_run: bool,
        /// Follow the run with a live progress display until it ends.
        #[arg(long)]
        watch: bool,
    },
    /// Show a run: state, phase, counts, thresholds tripped.
    Show {
        #[arg(long)]
        district: String,
        run: String,
    },
    /// List a district's runs, newest first.
    List {
        #[arg(long)]
        district: String,
    },
    /// Apply the stored plan of a run paused by a threshold: all of it, or all but what
    /// each --exclude keeps out (see `sync held` for the item numbers). The district's next
    /// run plans the excluded changes again.
    Approve {
        #[arg(long)]
        district: String,
        run: String,
        /// Changes to keep out: item numbers (`12,40,41`), a kind of change
        /// (`link.delete`, `student.*`, `*.archive`) or a student (`student:<our id>`).
        /// Repeat for more.
        #[arg(long, value_name = "WHAT")]
        exclude: Vec<String>,
        /// Why, recorded with each exclusion of this approval.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Undo a run: a new run puts back every field, link and archive it changed (a field a
    /// later change moved is left and named, unless --force).
    Revert {
        #[arg(long)]
        district: String,
        /// The run to undo.
        run: String,
        /// Plan the undo only: what it would put back, written nowhere else.
        #[arg(long)]
        dry_run: bool,
        /// Put back fields a later change moved too.
        #[arg(long)]
        force: bool,
        /// Follow the undo with a live progress display until it ends.
        #[arg(long)]
        watch: bool,
    },
    /// Cancel a paused or running run.
    Cancel {
        #[arg(long)]
        district: String,
        run: String,
    },
    /// A run's planned (or applied) changes, field by field.
    Changes {
        #[arg(long)]
        district: String,
        run: String,
        /// Only this entity: school, student, guardian, contact, link, staff, classroom or
        /// enrollment.
        #[arg(long, default_value = "")]
        entity: String,
        /// Only this operation: create, update, archive, unarchive or delete.
        #[arg(long, default_value = "")]
        operation: String,
        /// CSV: seq, entity, operation, record, field, old, new, tier, rule.
        #[arg(long)]
        csv: bool,
    },
    /// A run's warnings (values kept as "other", records refused), one per line.
    Warnings {
        #[arg(long)]
        district: String,
        run: String,
        /// CSV: run_id, n, warning.
        #[arg(long)]
        csv: bool,
    },
    /// The planned changes a threshold held back, for the district to review before
    /// approving: the archives, removals and downgrades of each limit the run tripped.
    Held {
        #[arg(long)]
        district: String,
        run: String,
        /// CSV, as `changes --csv`.
        #[arg(long)]
        csv: bool,
    },
}

pub async fn run(server: &crate::client::Target, command: SyncCommand) -> anyhow::Result<()> {
    let mut client = connect(server).await?;
    match command {
        SyncCommand::Start {
            district,
            dry_run,
            watch,
        } => {
            let run = client
                .start_sync(pb::StartSyncRequest {
                    district_id: district.clone(),
                    dry_run,
                    request_id: String::new(),
                })
                .await
                .map_err(status_error)?
                .into_inner();
            println!("run {} started for district {district}", run.run_id);
            if watch {
                let last = follow(&mut client, &district, &run.run_id).await?;
                print!("{}", render(&last));
                if last.state == pb::RunState::Failed as i32 {
                    anyhow::bail!("run {} failed", last.run_id);
                }
            }
        }
        SyncCommand::Show { district, run } => {
            let r = client
                .get_sync_run(pb::GetSyncRunRequest {
                    district_id: district,
                    run_id: run,
                })
                .await
                .map_err(status_error)?
                .into_inner();
            print!("{}", render(&r));
        }
        SyncCommand::List { district } => {
            let page = client
                .list_sync_runs(pb::ListSyncRunsRequest {
                    district_id: district,
                    page_size: 50,
                    page_token: String::new(),
                })
                .await
                .map_err(status_error)?
                .into_inner();
            for r in page.runs {
                println!(
                    "{}  {:<9} {:<8} {:>7} planned {:>7} applied  {}",
                    r.run_id,
                    state(r.state),
                    mode(r.mode),
                    r.plan_items,
                    r.applied,
                    shown_time(r.create_time.as_ref())
                );
            }
        }
        SyncCommand::Approve {
            district,
            run,
            exclude,
            reason,
        } => {
            let exclusions = exclude
                .iter()
                .map(|x| exclusion(x, &reason))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let r = client
                .approve_sync_run(pb::ApproveSyncRunRequest {
                    district_id: district.clone(),
                    run_id: run.clone(),
                    exclusions,
                })
                .await
                .map_err(status_error)?
                .into_inner();
            if r.excluded == 0 {
                println!(
                    "run {} approved; applying {} planned changes",
                    r.run_id, r.plan_items
                );
            } else {
                println!(
                    "run {} approved; applying {} of {} planned changes ({} kept out, planned again by the next run)",
                    r.run_id,
                    r.plan_items.saturating_sub(r.excluded),
                    r.plan_items,
                    r.excluded
                );
            }
        }
        SyncCommand::Revert {
            district,
            run,
            dry_run,
            force,
            watch,
        } => {
            let undo = client
                .revert_sync_run(pb::RevertSyncRunRequest {
                    district_id: district.clone(),
                    run_id: run.clone(),
                    dry_run,
                    force,
                })
                .await
                .map_err(status_error)?
                .into_inner();
            println!("run {} started to undo run {run}", undo.run_id);
            if watch {
                let last = follow(&mut client, &district, &undo.run_id).await?;
                print!("{}", render(&last));
                if last.state == pb::RunState::Failed as i32 {
                    anyhow::bail!("run {} failed", last.run_id);
                }
            }
        }
        SyncCommand::Cancel { district, run } => {
            let r = client
                .cancel_sync_run(pb::CancelSyncRunRequest {
                    district_id: district,
                    run_id: run,
                })
                .await
                .map_err(status_error)?
                .into_inner();
            println!("run {} is {}", r.run_id, state(r.state));
        }
        SyncCommand::Changes {
            district,
            run,
            entity,
            operation,
            csv,
        } => {
            let entity = enum_value("ENTITY_", &entity, pb::Entity::from_str_name)
                .map_err(|v| anyhow::anyhow!("--entity {v:?} is not one of school, student, guardian, contact, link, staff, classroom, enrollment"))?;
            let operation = enum_value("OPERATION_", &operation, pb::Operation::from_str_name)
                .map_err(|v| anyhow::anyhow!("--operation {v:?} is not one of create, update, archive, unarchive, delete"))?;
            let mut out = ChangePrinter::new(csv)?;
            each_change(&mut client, &district, &run, entity, operation, |c| {
                out.print(c)
            })
            .await?;
            out.finish()?;
        }
        SyncCommand::Warnings { district, run, csv } => {
            let r = client
                .get_sync_run(pb::GetSyncRunRequest {
                    district_id: district,
                    run_id: run,
                })
                .await
                .map_err(status_error)?
                .into_inner();
            if csv {
                let mut w = csv::Writer::from_writer(std::io::stdout());
                w.write_record(["run_id", "n", "warning"])?;
                for (n, warning) in r.warnings.iter().enumerate() {
                    w.write_record([r.run_id.as_str(), &(n + 1).to_string(), warning])?;
                }
                w.flush()?;
            } else {
                for warning in &r.warnings {
                    println!("{warning}");
                }
            }
            let kept = r.warnings.len() as u64;
            if r.warning_count > kept {
                eprintln!(
                    "{} warnings in all; the first {kept} are kept in words",
                    r.warning_count
                );
            }
        }
        SyncCommand::Held { district, run, csv } => {
            let r = client
                .get_sync_run(pb::GetSyncRunRequest {
                    district_id: district.clone(),
                    run_id: run.clone(),
                })
                .await
                .map_err(status_error)?
                .into_inner();
            if r.trips.is_empty() {
                eprintln!("run {run} tripped no threshold: nothing is held");
            }
            let mut out = ChangePrinter::new(csv)?;
            for trip in &r.trips {
                let Some((entity, operation)) = held_by(&trip.limit) else {
                    anyhow::bail!("run {run} tripped an unknown limit {:?}", trip.limit);
                };
                let downgrades = trip.limit == "links_downgraded";
                each_change(&mut client, &district, &run, entity, operation, |c| {
                    if downgrades && !is_downgrade(c) {
                        return Ok(());
                    }
                    out.print(c)
                })
                .await?;
            }
            out.finish()?;
        }
    }
    Ok(())
}

/// The entity and operation of the planned changes a threshold limit counts.
fn held_by(limit: &str) -> Option<(pb::Entity, pb::Operation)> {
    Some(match limit {
        "students_archived" => (pb::Entity::Student, pb::Operation::Archive),
        "guardians_archived" => (pb::Entity::Guardian, pb::Operation::Archive),
        "staff_archived" => (pb::Entity::Staff, pb::Operation::Archive),
        "classrooms_archived" => (pb::Entity::Classroom, pb::Operation::Archive),
        "links_removed" => (pb::Entity::Link, pb::Operation::Delete),
        "links_downgraded" => (pb::Entity::Link, pb::Operation::Update),
        _ => return None,
    })
}

/// A link update that takes a Full link down to a lesser tier.
fn is_downgrade(c: &pb::RunChange) -> bool {
    c.tier != pb::AccessTier::Full as i32
        && c.fields
            .iter()
            .any(|f| f.field == "tier" && f.old_value.as_deref() == Some("full"))
}

/// Every change of a run of this entity and operation (unspecified: all), page by page.
async fn each_change(
    client: &mut crate::client::Client,
    district: &str,
    run: &str,
    entity: pb::Entity,
    operation: pb::Operation,
    mut each: impl FnMut(&pb::RunChange) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut token = String::new();
    loop {
        let page = client
            .list_run_changes(pb::ListRunChangesRequest {
                district_id: district.to_owned(),
                run_id: run.to_owned(),
                entity: entity as i32,
                operation: operation as i32,
                page_size: 500,
                page_token: token,
            })
            .await
            .map_err(status_error)?
            .into_inner();
        for c in &page.changes {
            each(c)?;
        }
        if page.next_page_token.is_empty() {
            return Ok(());
        }
        token = page.next_page_token;
    }
}

/// The proto enum value a lower-case name stands for (`student` → `ENTITY_STUDENT`); the
/// unspecified value for an empty name.
pub(crate) fn enum_value<T: Default>(
    prefix: &str,
    name: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, String> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(T::default());
    }
    parse(&format!("{prefix}{}", name.to_ascii_uppercase())).ok_or_else(|| name.to_owned())
}

/// A proto enum value's lower-case name (`ENTITY_STUDENT` → `student`).
fn lower(prefix: &str, full: &str) -> String {
    full.strip_prefix(prefix)
        .unwrap_or(full)
        .to_ascii_lowercase()
}

pub fn entity_name(v: i32) -> String {
    pb::Entity::try_from(v).map_or_else(|_| v.to_string(), |e| lower("ENTITY_", e.as_str_name()))
}

pub(crate) fn operation_name(v: i32) -> String {
    pb::Operation::try_from(v)
        .map_or_else(|_| v.to_string(), |o| lower("OPERATION_", o.as_str_name()))
}

pub(crate) fn tier_name(v: i32) -> String {
    match pb::AccessTier::try_from(v) {
        Ok(pb::AccessTier::Unspecified) => String::new(),
        Ok(t) => lower("ACCESS_TIER_", t.as_str_name()),
        Err(_) => v.to_string(),
    }
}

fn trigger_name(v: i32) -> String {
    pb::RunTrigger::try_from(v).map_or_else(
        |_| v.to_string(),
        |t| lower("RUN_TRIGGER_", t.as_str_name()),
    )
}

fn state(s: i32) -> &'static str {
    match pb::RunState::try_from(s) {
        Ok(pb::RunState::Running) => "running",
        Ok(pb::RunState::Paused) => "paused",
        Ok(pb::RunState::Succeeded) => "succeeded",
        Ok(pb::RunState::Failed) => "failed",
        Ok(pb::RunState::Cancelled) => "cancelled",
        Ok(pb::RunState::Cancelling) => "cancelling",
        _ => "unknown",
    }
}

fn phase(p: i32) -> &'static str {
    match pb::RunPhase::try_from(p) {
        Ok(pb::RunPhase::Pulling) => "pulling",
        Ok(pb::RunPhase::Checking) => "checking",
        Ok(pb::RunPhase::Applying) => "applying",
        Ok(pb::RunPhase::Done) => "done",
        _ => "unknown",
    }
}

fn mode(m: i32) -> &'static str {
    if m == pb::RunMode::DryRun as i32 {
        "dry run"
    } else {
        "full"
    }
}

/// A run as text.
pub fn render(r: &pb::SyncRun) -> String {
    let mut out = format!(
        "run {} ({}, {}) of district {}: {} — {}\n",
        r.run_id,
        mode(r.mode),
        trigger_name(r.trigger),
        r.district_id,
        state(r.state),
        phase(r.phase)
    );
    if !r.error.is_empty() {
        out.push_str(&format!("  error: {}\n", r.error));
    }
    if let Some(undo) = &r.revert {
        out.push_str(&format!(
            "  undoes run {}{}; fields left as later changes made them: {}\n",
            undo.run_id,
            if undo.force { " (forced)" } else { "" },
            undo.left_fields
        ));
    }
    if r.excluded > 0 {
        out.push_str(&format!(
            "  kept out when approved: {} plan items (planned again by the next run)\n",
            r.excluded
        ));
    }
    let list = |m: &std::collections::BTreeMap<String, u64>| {
        m.iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    out.push_str(&format!("  fetched: {}\n", list(&r.fetched)));
    out.push_str(&format!(
        "  planned: {} changes ({})\n",
        r.plan_items,
        list(&r.planned)
    ));
    let mut schools: std::collections::BTreeMap<&str, Vec<String>> =
        std::collections::BTreeMap::new();
    for (key, n) in &r.planned_by_school {
        if let Some((school, kind)) = key.split_once('/') {
            schools
                .entry(school)
                .or_default()
                .push(format!("{kind} {n}"));
        }
    }
    for (school, kinds) in schools {
        let school = if school.is_empty() {
            "(no school)"
        } else {
            school
        };
        out.push_str(&format!("    school {school}: {}\n", kinds.join(", ")));
    }
    out.push_str(&format!("  applied: {}\n", r.applied));
    for t in &r.trips {
        let limit = match (t.max_percent, t.max_count) {
            (Some(p), Some(c)) => format!("{p}% or {c}"),
            (Some(p), None) => format!("{p}%"),
            (None, Some(c)) => c.to_string(),
            (None, None) => "none".into(),
        };
        out.push_str(&format!(
            "  threshold {}: {} of {} (limit {limit}) — approve or cancel the run\n",
            t.limit, t.count, t.of
        ));
    }
    if r.warning_count > 0 {
        out.push_str(&format!(
            "  warnings: {} (first: {})\n",
            r.warning_count,
            r.warnings.first().cloned().unwrap_or_default()
        ));
    }
    out
}

/// Follows a run to its end, drawing a live progress line on a terminal.
pub async fn follow(
    client: &mut crate::client::Client,
    district: &str,
    run: &str,
) -> anyhow::Result<pb::SyncRun> {
    let mut stream = client
        .watch_sync_run(pb::WatchSyncRunRequest {
            district_id: district.into(),
            run_id: run.into(),
        })
        .await
        .map_err(status_error)?
        .into_inner();
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(0)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let started = Instant::now();
    let mut last = None;
    while let Some(update) = stream.next().await {
        let r = update.map_err(status_error)?;
        let fetched = r.fetched.get("students").copied().unwrap_or_default();
        if r.phase == pb::RunPhase::Applying as i32 {
            bar.set_length(r.plan_items);
            bar.set_position(r.applied);
        } else {
            bar.set_length(r.plan_items.max(1));
            bar.set_position(r.plan_items);
        }
        bar.set_message(format!(
            "{} · {} planned · {} students fetched · {:.0?}",
            phase(r.phase),
            r.plan_items,
            fetched,
            started.elapsed()
        ));
        last = Some(r);
    }
    bar.finish_and_clear();
    last.ok_or_else(|| anyhow::anyhow!("the server sent nothing about run {run}"))
}

/// A `google.protobuf.Timestamp` as RFC 3339 (UTC, seconds), or `-` when unset.
pub fn shown_time(t: Option<&prost_types::Timestamp>) -> String {
    t.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| "-".to_owned())
}
