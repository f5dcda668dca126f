//! `rostersync guardians import`: a district's guardians.csv sent to a running server in
//! pieces (`ImportGuardians`), imported as a run; a refused file's every problem printed
//! with its line and column.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use proto::v1 as pb;

use crate::client::{connect, status_error};

/// Bytes per piece of an upload.
const PIECE: usize = 1024 * 1024;

#[derive(Debug, clap::Subcommand)]
pub enum GuardiansAction {
    /// Import a guardians.csv (`-` reads standard input) as a run of the district.
    Import {
        #[arg(long)]
        district: String,
        /// The file (see `rostersync guardians-csv`).
        file: PathBuf,
        /// Stop at the plan: report what the file would change, write nothing else.
        #[arg(long)]
        dry_run: bool,
        /// Follow the run to its end.
        #[arg(long)]
        watch: bool,
    },
}

pub async fn run(server: &crate::client::Target, action: GuardiansAction) -> anyhow::Result<()> {
    let GuardiansAction::Import {
        district,
        file,
        dry_run,
        watch,
    } = action;
    let mut content = Vec::new();
    if file.as_os_str() == "-" {
        std::io::stdin()
            .read_to_end(&mut content)
            .context("read standard input")?;
    } else {
        let size = std::fs::metadata(&file)
            .with_context(|| format!("read {}", file.display()))?
            .len();
        if size > engine::import::MAX_FILE_BYTES as u64 {
            anyhow::bail!(
                "{} is {size} bytes; an import takes at most {}",
                file.display(),
                engine::import::MAX_FILE_BYTES
            );
        }
        content = std::fs::read(&file).with_context(|| format!("read {}", file.display()))?;
    }
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| *n != "-")
        .unwrap_or("guardians.csv")
        .to_owned();
    // Pieces are made as they are sent: the file is held once.
    let (first_district, first_name) = (district.clone(), name.clone());
    let len = content.len();
    let pieces = (0..len.div_ceil(PIECE).max(1)).map(move |i| {
        let mut piece = pb::ImportGuardiansRequest {
            data: content[i * PIECE..((i + 1) * PIECE).min(len)].to_vec(),
            ..Default::default()
        };
        if i == 0 {
            piece.district_id = first_district.clone();
            piece.dry_run = dry_run;
            piece.file_name = first_name.clone();
        }
        piece
    });
    let mut client = connect(server).await?;
    let run = match client.import_guardians(tokio_stream::iter(pieces)).await {
        Ok(r) => r.into_inner(),
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            use tonic_types::StatusExt;
            let details = status.get_error_details();
            let violations = details
                .bad_request()
                .map(|b| b.field_violations.clone())
                .unwrap_or_default();
            eprintln!("{name}: {}", status.message());
            for v in &violations {
                eprintln!("  {}: {}", v.field, v.description);
            }
            anyhow::bail!("{name} was refused; nothing was written");
        }
        Err(status) => return Err(status_error(status)),
    };
    println!(
        "{name}: run {} started for district {district}{}",
        run.run_id,
        if dry_run { " (dry run)" } else { "" }
    );
    if watch {
        let last = crate::sync::follow(&mut client, &district, &run.run_id).await?;
        print!("{}", crate::sync::render(&last));
        if last.state == pb::RunState::Failed as i32 {
            anyhow::bail!("run {} failed", last.run_id);
        }
    }
    Ok(())
}
