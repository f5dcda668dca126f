//! Warnings and refusals a connector gathers while it maps a pull: an unknown value is
//! warned about once per pull, a record that cannot be right is refused with its reason,
//! and both go to the engine after each page.

use std::collections::BTreeSet;

use model::ids::SourceId;

use crate::pull::{PullWarning, RecordKind, RejectedRecord, RosterEvent};
use crate::source::{PullStop, RosterSink};

/// Warnings and refusals of one pull; an unknown value is warned about once.
#[derive(Debug, Default)]
pub struct Warnings {
    pub warnings: Vec<PullWarning>,
    pub rejected: Vec<RejectedRecord>,
    seen: BTreeSet<(&'static str, String)>,
}

impl Warnings {
    /// Warns once per pull that `field` held the unknown `value`.
    pub fn unknown(&mut self, endpoint: &str, record: &str, field: &'static str, value: &str) {
        if self.seen.insert((field, value.to_owned())) {
            self.warnings.push(PullWarning {
                endpoint: endpoint.to_owned(),
                record: record.to_owned(),
                message: format!("unknown {field} {value:?} kept as other"),
            });
        }
    }

    pub fn reject(
        &mut self,
        kind: RecordKind,
        endpoint: &str,
        id: &str,
        reason: impl Into<String>,
    ) {
        self.rejected.push(RejectedRecord {
            kind,
            source_id: (!id.is_empty()).then(|| SourceId::new(id)),
            endpoint: endpoint.to_owned(),
            record: id.to_owned(),
            reason: reason.into(),
        });
    }

    /// Takes what was gathered since the last call (the seen values stay remembered).
    pub fn drain(&mut self) -> (Vec<PullWarning>, Vec<RejectedRecord>) {
        (
            std::mem::take(&mut self.warnings),
            std::mem::take(&mut self.rejected),
        )
    }
}

impl Warnings {
    /// Sends what was gathered since the last page.
    pub async fn flush(&mut self, sink: &RosterSink) -> Result<(), PullStop> {
        let (said, refused) = self.drain();
        for w in said {
            sink.send(RosterEvent::Warning(w)).await?;
        }
        for r in refused {
            sink.send(RosterEvent::Rejected(r)).await?;
        }
        Ok(())
    }
}
