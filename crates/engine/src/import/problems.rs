//! A refused file's problems: all counted, the first [`LISTED_PROBLEMS`] in line and
//! column order kept to be listed, however many the file has and in whatever order the
//! passes over it find them.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use model::ValidationErrors;

use super::file::Problem;
use super::upload::UploadError;
use crate::EngineError;

/// Problems a refused file's report lists; the rest are counted.
pub const LISTED_PROBLEMS: usize = 100;

/// A refused file's problems: the first [`LISTED_PROBLEMS`] in line and column order,
/// and how many it has in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblems {
    pub listed: Vec<Problem>,
    pub total: u64,
}

impl FileProblems {
    /// The listed problems as the validation errors callers show: one entry per
    /// problem, its path `line N, column C`.
    pub fn errors(&self) -> ValidationErrors {
        let mut errors = ValidationErrors::new();
        for p in &self.listed {
            errors.push(p.place(), p.reason.clone());
        }
        errors
    }

    /// Problems not listed.
    pub fn unlisted(&self) -> u64 {
        self.total.saturating_sub(self.listed.len() as u64)
    }
}

impl std::fmt::Display for FileProblems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.errors())?;
        match self.unlisted() {
            0 => Ok(()),
            n => write!(f, "; and {n} more"),
        }
    }
}

/// A problem ordered by where it is: line, then column.
#[derive(Debug, PartialEq, Eq)]
struct Placed(Problem);

impl Ord for Placed {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.0.line, &self.0.column, &self.0.reason).cmp(&(
            other.0.line,
            &other.0.column,
            &other.0.reason,
        ))
    }
}

impl PartialOrd for Placed {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Problems as they are found: counted, the first [`LISTED_PROBLEMS`] kept.
#[derive(Debug, Default)]
pub(super) struct Problems {
    /// The first problems so far, the last of them on top.
    first: BinaryHeap<Placed>,
    total: u64,
}

impl Problems {
    pub fn push(&mut self, p: Problem) {
        self.total += 1;
        self.first.push(Placed(p));
        if self.first.len() > LISTED_PROBLEMS {
            self.first.pop();
        }
    }

    /// Adds every problem of `other`.
    pub fn extend(&mut self, other: Problems) {
        self.total += other.total;
        for p in other.first {
            self.first.push(p);
            if self.first.len() > LISTED_PROBLEMS {
                self.first.pop();
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The problems as a refusal, or `Ok` when there were none.
    pub fn into_result(self) -> Result<(), EngineError> {
        if self.is_empty() {
            return Ok(());
        }
        Err(EngineError::InvalidFile(FileProblems {
            listed: self
                .first
                .into_sorted_vec()
                .into_iter()
                .map(|p| p.0)
                .collect(),
            total: self.total,
        }))
    }
}

/// A file refused for one problem.
pub(super) fn refused(line: u64, reason: &str) -> EngineError {
    EngineError::InvalidFile(FileProblems {
        listed: vec![Problem {
            line,
            column: String::new(),
            reason: reason.to_owned(),
        }],
        total: 1,
    })
}

/// The file could not be read.
pub(super) fn read_error(e: std::io::Error) -> EngineError {
    EngineError::Upload(UploadError::Io(e))
}
