//! `guardians.csv` imports (SPEC §4, seeds 002 and 004): when a district does not let the
//! sync manage guardians, they come from a file — through `ImportGuardians`, the CLI or
//! the district's drop folder, one code path.
//!
//! An import is a run like any other. The file is taken as an [`Upload`] (a temporary
//! file, never a copy in memory), checked whole (`check`: every row, and across rows),
//! then its student ids resolved against the students we hold (`students`) — every
//! problem found at once and counted, the first hundred listed, nothing written. It is
//! then staged and planned through the same policy as a pull — the `guardians_csv.*` link
//! rules, relationships and contact types filtered, phones mapped to the SMS and phone
//! fields, active users' contact details protected unless allowed — with dry run,
//! thresholds, approve/cancel and the change log. The file stands where a connector's pull would (`source::ImportSource`,
//! read from the file a batch at a time), and is kept with the run in pieces so an import
//! interrupted before it applied is planned again after a restart.
//!
//! Every pass reads the file a block at a time: memory holds a block, a batch of rows, the
//! check's first sightings of pairs and guardians (bounded: a file with more rows is
//! checked across rows in parts) and the ids of the students the source sent — never the
//! file, whatever its size up to [`MAX_FILE_BYTES`].
//!
//! Links a file makes have origin `import` and guardians it makes a `csv:` source id: a
//! later file replaces exactly those (its students are the ones it names and the ones
//! holding `import` links), and no SIS run removes them.

mod check;
pub mod file;
mod problems;
mod records;
mod source;
mod students;
mod upload;

use std::sync::Arc;

use connector::Connector;
use model::district::District;
use model::ids::{DistrictId, RunId};
use model::run::{RunMode, RunTrigger, SyncRun};

use crate::sync::Runs;
use crate::{EngineError, Refusal};

pub use file::{Problem, Row, COLUMNS, TEMPLATE};
pub use problems::{FileProblems, LISTED_PROBLEMS};
pub use upload::{Upload, UploadError, UploadWriter, MAX_FILE_BYTES};

/// Bytes of the file kept per stored piece.
const KEPT_PIECE: usize = 1024 * 1024;

/// A file kept with its run: what to call it, and the file.
#[derive(Debug, Clone)]
pub(crate) struct KeptFile {
    pub name: String,
    pub upload: Arc<Upload>,
}

impl Runs {
    /// Imports a district's `guardians.csv` (`name` is what to call it in the run's
    /// record) as a run: checked whole first — a file with any problem is refused with
    /// all of them ([`EngineError::InvalidFile`]) and writes nothing — then planned and,
    /// unless `mode` is a dry run, applied like a pull. A retry with the same
    /// `request_id` gets the first run back.
    pub async fn import_guardians(
        &self,
        district: &DistrictId,
        name: &str,
        upload: Upload,
        mode: RunMode,
        request_id: Option<&str>,
    ) -> Result<SyncRun, EngineError> {
        let d = self.districts().get_district(district).await?;
        if let Some(id) = request_id {
            if let Some(run) = self.store.run_of_request(district, id).await? {
                return Ok(run);
            }
        }
        if d.settings.manage_guardians {
            return Err(EngineError::refused(
                Refusal::GuardiansManagedBySync,
                format!(
                    "district {district} lets the sync manage its guardians; turn settings.manage_guardians off to take them from guardians.csv"
                ),
            ));
        }
        if upload.len() > MAX_FILE_BYTES as u64 {
            return Err(EngineError::Upload(UploadError::TooLarge));
        }
        let upload = Arc::new(upload);
        let source = self.import_source(&d, upload.clone()).await?;
        let kept = KeptFile {
            name: name.to_owned(),
            upload,
        };
        self.start_for_request(
            district,
            mode,
            RunTrigger::Import,
            request_id,
            Some((source, kept)),
        )
        .await
    }

    /// The source a run with a kept file plans from again: the file, checked anew.
    pub(crate) async fn kept_input_source(
        &self,
        d: &District,
        run: RunId,
    ) -> Result<Arc<dyn Connector>, EngineError> {
        let not_found = || EngineError::NotFound {
            entity: "guardians.csv of run",
            id: run.to_string(),
        };
        self.store
            .run_input_name(&d.id, run)
            .await?
            .ok_or_else(not_found)?;
        let mut upload = UploadWriter::new().map_err(EngineError::Upload)?;
        let mut seq = 0;
        while let Some(piece) = self.store.run_input_piece(&d.id, run, seq).await? {
            upload
                .write(piece.as_bytes())
                .map_err(EngineError::Upload)?;
            seq += 1;
        }
        let upload = upload.finish().map_err(EngineError::Upload)?;
        self.import_source(d, Arc::new(upload)).await
    }

    /// Checks a file whole and resolves its student ids: the source of an import, or
    /// every problem of the file.
    async fn import_source(
        &self,
        d: &District,
        upload: Arc<Upload>,
    ) -> Result<Arc<dyn Connector>, EngineError> {
        let file = upload.clone();
        let checked = tokio::task::spawn_blocking(move || check::check(&file))
            .await
            .map_err(|e| {
                EngineError::Upload(UploadError::Io(std::io::Error::other(format!(
                    "the check of the file stopped: {e}"
                ))))
            })??;
        students::check_students(&self.store, &d.id, &upload).await?;
        Ok(Arc::new(source::ImportSource::new(
            self.store.clone(),
            d.id.clone(),
            upload,
            checked,
        )))
    }

    /// Keeps `file` with `run`, in pieces of about [`KEPT_PIECE`] bytes, in one
    /// transaction.
    pub(crate) async fn keep_file(
        &self,
        district: &DistrictId,
        run: RunId,
        file: &KeptFile,
    ) -> Result<(), EngineError> {
        let mut kept = self.store.keep_run_input(district, run, &file.name).await?;
        let mut pieces = Pieces::new(file.upload.reader_at(0), KEPT_PIECE);
        while let Some(piece) = pieces
            .next_piece()
            .map_err(|e| EngineError::Upload(UploadError::Io(e)))?
        {
            kept.piece(piece).await?;
        }
        kept.commit().await?;
        Ok(())
    }
}

/// A checked file's text in pieces of at most `size` bytes, each cut between characters
/// (a character cut short begins the next piece).
#[derive(Debug)]
struct Pieces<R> {
    reader: R,
    size: usize,
    carry: Vec<u8>,
    done: bool,
}

impl<R: std::io::Read> Pieces<R> {
    fn new(reader: R, size: usize) -> Self {
        Pieces {
            reader,
            size,
            carry: Vec::new(),
            done: false,
        }
    }

    fn next_piece(&mut self) -> std::io::Result<Option<String>> {
        use std::io::Read;
        if self.done {
            return Ok(None);
        }
        let mut piece = std::mem::take(&mut self.carry);
        let room = self.size.saturating_sub(piece.len());
        piece.reserve_exact(room);
        (&mut self.reader)
            .take(room as u64)
            .read_to_end(&mut piece)?;
        if piece.len() < self.size {
            self.done = true;
        } else {
            let whole = match std::str::from_utf8(&piece) {
                Err(e) if e.error_len().is_none() && e.valid_up_to() > 0 => e.valid_up_to(),
                _ => piece.len(),
            };
            self.carry = piece.split_off(whole);
        }
        if piece.is_empty() {
            return Ok(None);
        }
        // A checked file is UTF-8 (every value was read as such).
        Ok(Some(String::from_utf8(piece).unwrap_or_else(|e| {
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_kept_in_pieces_cut_between_characters() {
        let text = "student_id,first_name\n1,Zoë\n2,Ünal 日本\n3,Ana\n";
        for size in [4, 5, 7, 64] {
            let mut pieces = Pieces::new(text.as_bytes(), size);
            let mut all = Vec::new();
            while let Some(p) = pieces.next_piece().expect("read") {
                assert!(p.len() <= size, "{p:?} longer than {size}");
                all.push(p);
            }
            assert_eq!(all.concat(), text, "pieces of {size}");
        }
    }
}
