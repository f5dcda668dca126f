//! Where a simulated Roster Server departs from the plain reading of the spec, as real
//! servers do, and how those departures answer.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::reply::Reply;

/// The ways a real Roster Server is known to page and refuse that a plain one does not,
/// each from the reference (`reference/oneroster-classlink.md`). A page cap below what
/// `limit` asks is [`super::OneRosterSimConfig::max_limit`] ("servers cap `limit`", §4 [OAS12]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quirks {
    /// Every page is answered from offset 0: a server that ignores `offset` (§4 "broken
    /// paging exists").
    pub ignore_offset: bool,
    /// No `X-Total-Count` header: the spec does not require it and clients must not
    /// (§4 "never require the headers" [CDO]).
    pub no_total: bool,
    /// No `Link` header: the spec only RECOMMENDS it (§4 [OAS12]).
    pub no_links: bool,
    /// Collections the application may not read, by path under the version root
    /// (`/classes`, `/enrollments`, `/teachers`), with the status answered: 403
    /// `forbidden` or 404 `unknownobject` (§5 [OAS12]), as a district that did not share
    /// them answers.
    pub refused: Vec<(String, u16)>,
    /// ClassLink's data revision: every roster answer carries `x-perm-rev`, `rev-1` for
    /// the first N answers and `rev-2` after, as if the district's data changed once
    /// mid-pull ("if it changes mid-pull, restart the pull", §4 [PSD], reported).
    pub revision_moves_after: Option<usize>,
}

impl Quirks {
    /// The refusal a roster path under the version root (`/classes/…`) gets, if any.
    pub(super) fn refusal(&self, rest: &str) -> Option<Reply> {
        let (_, status) = self
            .refused
            .iter()
            .find(|(path, _)| rest == path || rest.starts_with(&format!("{path}/")))?;
        let (minor, text) = match status {
            404 => ("unknownobject", "Not found"),
            _ => ("forbidden", "The application may not read this collection"),
        };
        Some(Reply::failure(*status, minor, text))
    }

    /// `reply` with the data revision it is served under, counting it in `answered`.
    pub(super) fn with_revision(&self, reply: Reply, answered: &AtomicUsize) -> Reply {
        match self.revision_moves_after {
            Some(after) if reply.status == 200 => {
                let before = answered.fetch_add(1, Ordering::SeqCst);
                let revision = if before < after { "rev-1" } else { "rev-2" };
                reply.header("x-perm-rev", revision)
            }
            _ => reply,
        }
    }
}
