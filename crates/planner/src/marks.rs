//! Notes the planner leaves itself between its passes, staged beside the pull: what a
//! student's links need of a guardian (a new account, a mark, a re-count), read back when
//! the guardians are planned. Written only where something changes, so a run with no
//! change writes none.

use model::ids::{GuardianId, SourceId, StudentId};
use model::staging::{compound_key, key_parts, StagedKind, StagedRecord};

/// One note about a guardian.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mark {
    /// A link needs a guardian account for this SIS account, which we do not hold.
    Need(SourceId),
    /// A guardian of ours without a SIS account matched this SIS account (a form author):
    /// it takes the account over.
    Connect(SourceId, GuardianId),
    /// Mark the guardian's account incomplete.
    Incomplete(GuardianId),
    /// The plan removes the guardian's SIS link to this student.
    Unlink(GuardianId, StudentId),
    /// The plan creates a link of the guardian (held before) to this student.
    Relink(GuardianId, StudentId),
    /// The guardian's marks were planned with its SIS account.
    Done(GuardianId),
}

/// The group of the notes about one SIS account.
pub fn account_group(source: &SourceId) -> String {
    compound_key(&["account", source.as_str()])
}

/// The group of the notes about one guardian of ours.
pub fn guardian_group(id: GuardianId) -> String {
    compound_key(&["guardian", &id.to_string()])
}

impl Mark {
    pub fn staged(&self) -> StagedRecord {
        let (key, group) = match self {
            Mark::Need(s) => (
                compound_key(&["account", s.as_str(), "need"]),
                account_group(s),
            ),
            Mark::Connect(s, g) => (
                compound_key(&["account", s.as_str(), "connect", &g.to_string()]),
                account_group(s),
            ),
            Mark::Incomplete(g) => (
                compound_key(&["guardian", &g.to_string(), "incomplete"]),
                guardian_group(*g),
            ),
            Mark::Unlink(g, s) => (
                compound_key(&["guardian", &g.to_string(), "unlink", &s.to_string()]),
                guardian_group(*g),
            ),
            Mark::Relink(g, s) => (
                compound_key(&["guardian", &g.to_string(), "relink", &s.to_string()]),
                guardian_group(*g),
            ),
            Mark::Done(g) => (
                compound_key(&["guardian", &g.to_string(), "done"]),
                guardian_group(*g),
            ),
        };
        StagedRecord {
            kind: StagedKind::Mark,
            hash: key.clone(),
            key,
            group,
            arrival: "planner".into(),
            payload: String::new(),
            rejected: None,
            duplicate: None,
        }
    }

    /// Reads a staged note back; `None` for anything else.
    pub fn read(r: &StagedRecord) -> Option<Mark> {
        if r.kind != StagedKind::Mark {
            return None;
        }
        let parts = key_parts(&r.key);
        let id = |s: &str| s.parse::<GuardianId>().ok();
        let student = |s: &str| s.parse::<StudentId>().ok();
        match parts.as_slice() {
            ["account", s, "need"] => Some(Mark::Need(SourceId::new(*s))),
            ["account", s, "connect", g] => Some(Mark::Connect(SourceId::new(*s), id(g)?)),
            ["guardian", g, "incomplete"] => Some(Mark::Incomplete(id(g)?)),
            ["guardian", g, "unlink", s] => Some(Mark::Unlink(id(g)?, student(s)?)),
            ["guardian", g, "relink", s] => Some(Mark::Relink(id(g)?, student(s)?)),
            ["guardian", g, "done"] => Some(Mark::Done(id(g)?)),
            _ => None,
        }
    }

    /// The guardian of ours the note is about, if it names one.
    pub fn guardian(&self) -> Option<GuardianId> {
        match self {
            Mark::Need(_) => None,
            Mark::Connect(_, g)
            | Mark::Incomplete(g)
            | Mark::Unlink(g, _)
            | Mark::Relink(g, _)
            | Mark::Done(g) => Some(*g),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mark_reads_back_as_written() {
        let (g, s) = (GuardianId::new(), StudentId::new());
        for m in [
            Mark::Need(SourceId::new("700")),
            Mark::Connect(SourceId::new("700"), g),
            Mark::Incomplete(g),
            Mark::Unlink(g, s),
            Mark::Relink(g, s),
            Mark::Done(g),
        ] {
            assert_eq!(Mark::read(&m.staged()), Some(m));
        }
    }
}
