//! `guardians.csv` imports (SPEC §4, seeds 002 and 004): when a district does not let the
//! sync manage guardians, they come from a file — through `ImportGuardians`, the CLI or
//! the district's drop folder, one code path.
//!
//! An import is a run like any other: the file is read whole and checked ([`file`]), its
//! student ids resolved against the students we hold (every problem reported at once,
//! nothing written), then it is staged and planned through the same policy as a pull —
//! the `guardians_csv.*` link rules, relationships and contact types filtered, phones
//! mapped to the SMS and phone fields, active users' contact details protected unless
//! allowed — with dry run, thresholds, approve/cancel and the change log. The file stands
//! where a connector's pull would ([`source::ImportSource`]), and is kept with the run so
//! an import interrupted before it applied is planned again after a restart.
//!
//! Links a file makes have origin `import` and guardians it makes a `csv:` source id: a
//! later file replaces exactly those (its students are the ones it names and the ones
//! holding `import` links), and no SIS run removes them.

pub mod file;
mod source;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use connector::Connector;
use model::district::District;
use model::ids::{DistrictId, RunId};
use model::link::LinkOrigin;
use model::run::{RunMode, RunTrigger, SyncRun};
use model::ValidationErrors;
use store::runs::RunInput;

use crate::{Engine, EngineError, Refusal};

pub use file::{Problem, Row, COLUMNS, TEMPLATE};

/// The largest file an import takes.
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

/// A file's problems as the validation error every caller shows: one entry per problem,
/// its path `line N, column C`.
pub fn report(problems: &[Problem]) -> ValidationErrors {
    let mut errors = ValidationErrors::new();
    for p in problems {
        errors.push(p.place(), p.reason.clone());
    }
    errors
}

impl Engine {
    /// Imports a district's `guardians.csv` (`name` is what to call it in the run's
    /// record) as a run: checked whole first — a file with any problem is refused with
    /// all of them and writes nothing — then planned and, unless `mode` is a dry run,
    /// applied like a pull. A retry with the same `request_id` gets the first run back.
    pub async fn import_guardians(
        &self,
        district: &DistrictId,
        name: &str,
        content: &[u8],
        mode: RunMode,
        request_id: Option<&str>,
    ) -> Result<SyncRun, EngineError> {
        let d = self.get_district(district).await?;
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
        if content.len() > MAX_FILE_BYTES {
            return Err(EngineError::Invalid(report(&[Problem {
                line: 0,
                column: String::new(),
                reason: format!(
                    "the file is {} bytes; an import takes at most {MAX_FILE_BYTES}",
                    content.len()
                ),
            }])));
        }
        let source = self.import_source(&d, content).await?;
        let input = RunInput {
            name: name.to_owned(),
            // `file::read` accepted it, so it is UTF-8.
            content: String::from_utf8_lossy(content).into_owned(),
        };
        self.start_for_request(
            district,
            mode,
            RunTrigger::Import,
            request_id,
            Some((source, input)),
        )
        .await
    }

    /// The source an interrupted import plans from again: its kept file, read anew.
    pub(crate) async fn kept_import(
        &self,
        d: &District,
        run: RunId,
    ) -> Result<Arc<dyn Connector>, EngineError> {
        let Some(input) = self.store.run_input(&d.id, run).await? else {
            return Err(EngineError::NotFound {
                entity: "guardians.csv of run",
                id: run.to_string(),
            });
        };
        self.import_source(d, input.content.as_bytes()).await
    }

    /// Reads `content` and resolves its student ids: the source of an import, or every
    /// problem of the file.
    async fn import_source(
        &self,
        d: &District,
        content: &[u8],
    ) -> Result<Arc<dyn Connector>, EngineError> {
        let rows = file::read(content).map_err(|p| EngineError::Invalid(report(&p)))?;
        let ids: Vec<String> = rows
            .iter()
            .map(|r| r.student_id.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut by_id: BTreeMap<String, Vec<model::roster::Student>> = BTreeMap::new();
        for s in self.store.students_by_number(&d.id, &ids).await? {
            by_id
                .entry(s.value.student_number.clone())
                .or_default()
                .push(s.value);
        }
        let mut problems = Vec::new();
        let mut students = BTreeMap::new();
        for r in &rows {
            let found = by_id
                .get(&r.student_id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let live: Vec<&model::roster::Student> = found.iter().filter(|s| !s.archived).collect();
            let problem = match (found.len(), live.as_slice()) {
                (0, _) => Some(format!("unknown student id {:?}", r.student_id)),
                (_, []) => Some(format!("student {:?} is archived", r.student_id)),
                (_, [one]) => {
                    students.insert(r.student_id.clone(), (*one).clone());
                    None
                }
                (_, many) => Some(format!(
                    "student id {:?} names {} students; ask support to tell them apart",
                    r.student_id,
                    many.len()
                )),
            };
            if let Some(reason) = problem {
                problems.push(Problem {
                    line: r.line,
                    column: "student_id".into(),
                    reason,
                });
            }
        }
        if !problems.is_empty() {
            return Err(EngineError::Invalid(report(&problems)));
        }
        // Students holding a link an earlier file made: a file that no longer lists
        // them removes those links.
        let earlier = self
            .store
            .students_with_links_of(&d.id, LinkOrigin::Import)
            .await?;
        let earlier = self.store.students_by_id(&d.id, &earlier).await?;
        Ok(Arc::new(source::ImportSource::new(
            &rows, &students, earlier,
        )))
    }
}
