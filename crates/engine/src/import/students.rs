//! A file's student ids, resolved against the students the district holds a batch of rows
//! at a time: each must name one student who is not archived.

use std::collections::{BTreeSet, HashMap};

use model::ids::DistrictId;
use model::roster::Student;
use store::Store;

use super::file::Problem;
use super::file::Rows;
use super::problems::Problems;
use super::upload::Upload;
use crate::EngineError;

/// Rows whose student ids are looked up together.
pub(super) const BATCH: usize = 1000;

/// What a student id names among the students the district holds.
#[derive(Debug)]
pub(super) enum Named {
    One(Box<Student>),
    Unknown,
    Archived,
    Many(usize),
}

impl Named {
    /// Why a row naming this cannot be imported, if it cannot.
    pub fn problem(&self, id: &str) -> Option<String> {
        match self {
            Named::One(_) => None,
            Named::Unknown => Some(format!("unknown student id {id:?}")),
            Named::Archived => Some(format!("student {id:?} is archived")),
            Named::Many(n) => Some(format!(
                "student id {id:?} names {n} students; ask support to tell them apart"
            )),
        }
    }
}

/// What each of `ids` names (one query per few hundred ids).
pub(super) async fn name_students(
    store: &Store,
    district: &DistrictId,
    ids: BTreeSet<&str>,
) -> Result<HashMap<String, Named>, EngineError> {
    let ids: Vec<String> = ids.into_iter().map(str::to_owned).collect();
    let mut found: HashMap<String, Vec<Student>> = HashMap::new();
    for s in store.students_by_number(district, &ids).await? {
        found
            .entry(s.value.student_number.clone())
            .or_default()
            .push(s.value);
    }
    Ok(ids
        .into_iter()
        .map(|id| {
            let all = found.remove(&id).unwrap_or_default();
            let held = all.len();
            let mut live: Vec<Student> = all.into_iter().filter(|s| !s.archived).collect();
            let named = match (held, live.len()) {
                (0, _) => Named::Unknown,
                (_, 0) => Named::Archived,
                (_, 1) => live
                    .pop()
                    .map_or(Named::Unknown, |s| Named::One(Box::new(s))),
                (_, n) => Named::Many(n),
            };
            (id, named)
        })
        .collect())
}

/// Checks that every row of a file whose rows are good names one student the district
/// holds and has not archived; otherwise every row that does not is a problem.
pub(super) async fn check_students(
    store: &Store,
    district: &DistrictId,
    upload: &Upload,
) -> Result<(), EngineError> {
    let mut rows = Rows::open(upload)?;
    let mut problems = Problems::default();
    let mut batch: Vec<(u64, String)> = Vec::with_capacity(BATCH);
    loop {
        let row = rows.next_row()?;
        let end = row.is_none();
        if let Some(row) = row {
            batch.push((row.line, row.student_id));
        }
        if batch.len() < BATCH && !end {
            continue;
        }
        let ids = batch.iter().map(|(_, id)| id.as_str()).collect();
        let named = name_students(store, district, ids).await?;
        for (line, id) in batch.drain(..) {
            if let Some(reason) = named.get(&id).and_then(|n| n.problem(&id)) {
                problems.push(Problem {
                    line,
                    column: "student_id".into(),
                    reason,
                });
            }
        }
        if end {
            return problems.into_result();
        }
    }
}
