//! The districts' drop folders: where a district's automated SFTP upload lands its
//! `guardians.csv` (seeds 002 and 004). A file put in `IMPORTS_DIR/<district>/` is
//! imported once — through the same engine call as `ImportGuardians` and the CLI — then
//! moved to `done/` (imported; the report says the run and what it did) or `failed/`
//! (refused; the report names every problem with its line and column), as
//! `<UTC time>-<name>` beside `<UTC time>-<name>.report.txt`.
//!
//! A file is taken once its size and modification time held still between two looks (an
//! upload still being written is left alone), and never if its name starts with `.` or
//! ends in `.part`, `.tmp` or `.filepart`. Each import carries a request id made from the
//! file's name and content: should the service stop between importing a file and moving
//! it, the next look finds the same run instead of importing the file twice.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use engine::{Engine, EngineError};
use model::ids::DistrictId;
use model::run::{RunMode, RunState, SyncRun};
use sha2::Digest;

/// How often the folders are looked at.
const EVERY: Duration = Duration::from_secs(2);
/// How long a report waits for the import's run to end before it is written anyway.
const RUN_WAIT: Duration = Duration::from_secs(600);

/// What a file looked like at the last look: its size and modification time.
type Seen = HashMap<PathBuf, (u64, Option<SystemTime>)>;

/// Watches `root` until `shutdown`.
pub async fn watch(engine: Engine, root: PathBuf, shutdown: impl std::future::Future<Output = ()>) {
    if let Err(e) = std::fs::create_dir_all(&root) {
        tracing::warn!(dir = %root.display(), error = %e, "cannot create the drop folders' directory; guardians.csv drops are off");
        return;
    }
    tracing::info!(dir = %root.display(), "watching the districts' drop folders for guardians.csv");
    let engine = engine.acting_for(&model::access::Caller::service("drop-folder"));
    tokio::pin!(shutdown);
    let mut seen = Seen::new();
    loop {
        look(&engine, &root, &mut seen).await;
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}

/// One look at every district's folder.
async fn look(engine: &Engine, root: &Path, seen: &mut Seen) {
    let Ok(districts) = std::fs::read_dir(root) else {
        return;
    };
    let mut still: Seen = Seen::new();
    for dir in districts.flatten().map(|e| e.path()).filter(|p| p.is_dir()) {
        let Some(district) = dir.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        let Ok(files) = std::fs::read_dir(&dir) else {
            continue;
        };
        for path in files.flatten().map(|e| e.path()) {
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            let partial = name.starts_with('.')
                || [".part", ".tmp", ".filepart"]
                    .iter()
                    .any(|s| name.ends_with(s));
            if !meta.is_file() || partial {
                continue;
            }
            let now = (meta.len(), meta.modified().ok());
            if seen.get(&path) != Some(&now) {
                // New or still growing: look again next time.
                still.insert(path, now);
                continue;
            }
            import_one(engine, &district, &dir, &path, &name).await;
        }
    }
    *seen = still;
}

/// The request id of a dropped file: its name and content, hashed as they are read (the
/// file is never held in memory). A file larger than an import takes is not read.
fn request_id(name: &str, file: &std::fs::File) -> std::io::Result<Option<String>> {
    use std::io::Read;
    if file.metadata()?.len() > engine::import::MAX_FILE_BYTES as u64 {
        return Ok(None);
    }
    let mut digest = sha2::Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update([0u8]);
    let mut block = vec![0u8; 1024 * 1024];
    let mut reader = file;
    loop {
        let n = reader.read(&mut block)?;
        if n == 0 {
            break;
        }
        digest.update(&block[..n]);
    }
    Ok(Some(format!(
        "drop-{}",
        &hex::encode(digest.finalize())[..32]
    )))
}

/// Imports one file and moves it aside with its report.
async fn import_one(engine: &Engine, district: &str, dir: &Path, path: &Path, name: &str) {
    let read = std::fs::File::open(path).and_then(|file| Ok((request_id(name, &file)?, file)));
    let (request_id, file) = match read {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(district, file = name, error = %e, "cannot read a dropped file");
            return;
        }
    };
    let outcome = match (district.parse::<DistrictId>(), request_id) {
        (Err(e), _) => Err(format!("the folder {district:?} is not a district id: {e}")),
        (Ok(_), None) => Err(format!(
            "refused, nothing was written: {}",
            engine::import::UploadError::TooLarge
        )),
        (Ok(id), Some(request_id)) => {
            let imported = match engine::import::Upload::from_file(file) {
                Ok(upload) => {
                    engine
                        .runs()
                        .import_guardians(&id, name, upload, RunMode::Full, Some(&request_id))
                        .await
                }
                Err(e) => Err(EngineError::Upload(e)),
            };
            match imported {
                Ok(run) => Ok(finished(engine, &id, run).await),
                Err(EngineError::InvalidFile(problems)) => Err(refusal(&problems)),
                Err(e) => Err(format!("refused, nothing was written: {e}")),
            }
        }
    };
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let (folder, report) = match &outcome {
        Ok(text) => ("done", text.clone()),
        Err(text) => ("failed", text.clone()),
    };
    let target = dir.join(folder);
    let moved = target.join(format!("{stamp}-{name}"));
    let report_path = target.join(format!("{stamp}-{name}.report.txt"));
    let text = format!("guardians.csv import of {name} for district {district}\n{report}\n");
    let written = std::fs::create_dir_all(&target)
        .and_then(|()| std::fs::write(&report_path, text))
        .and_then(|()| std::fs::rename(path, &moved));
    match (written, outcome.is_ok()) {
        (Err(e), _) => {
            tracing::error!(district, file = name, error = %e, "cannot move a dropped file aside; it stays where it is");
        }
        (Ok(()), true) => {
            tracing::info!(district, file = name, report = %report_path.display(), "dropped guardians.csv imported")
        }
        (Ok(()), false) => {
            tracing::warn!(district, file = name, report = %report_path.display(), "dropped guardians.csv refused")
        }
    }
}

/// The import's run once it stopped running (or after a long wait), in words.
async fn finished(engine: &Engine, district: &DistrictId, run: SyncRun) -> String {
    let deadline = tokio::time::Instant::now() + RUN_WAIT;
    let mut run = run;
    while matches!(run.state, RunState::Running | RunState::Cancelling)
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(500)).await;
        match engine.runs().get_run(district, run.id).await {
            Ok(r) => run = r,
            Err(_) => break,
        }
    }
    let planned: Vec<String> = run
        .counts
        .planned
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    let mut text = format!(
        "run {}: {}; planned {} change(s) ({}); applied {}",
        run.id,
        run.state.as_str(),
        run.counts.plan_items,
        if planned.is_empty() {
            "none".to_owned()
        } else {
            planned.join(", ")
        },
        run.counts.applied
    );
    if run.state == RunState::Paused {
        text.push_str(&format!(
            "\npaused by the district's thresholds: review it (rostersync sync held --district {district} {}) and approve or cancel it",
            run.id
        ));
    }
    if let Some(error) = &run.error {
        text.push_str(&format!("\n{error}"));
    }
    for w in &run.warnings {
        text.push_str(&format!("\nwarning: {w}"));
    }
    text
}

/// A refused file's report: how many problems, each listed one with its line and column,
/// and how many more there are.
fn refusal(problems: &engine::import::FileProblems) -> String {
    let mut lines: Vec<String> = problems
        .errors()
        .errors()
        .iter()
        .map(|e| format!("  {}: {}", e.path, e.message))
        .collect();
    if problems.unlisted() > 0 {
        lines.push(format!(
            "  and {} more (the first {} are listed)",
            problems.unlisted(),
            problems.listed.len()
        ));
    }
    format!(
        "refused, nothing was written; {} problem{}:\n{}",
        problems.total,
        if problems.total == 1 { "" } else { "s" },
        lines.join("\n")
    )
}
