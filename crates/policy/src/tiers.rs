//! What each access tier may do (SPEC §3), as data a district can override.
//!
//! The seed's table ("Access Levels") lost its marks; SPEC §3 is our reading:
//!
//! | tier | view forms | create forms | edit forms | receive e-mails |
//! |---|---|---|---|---|
//! | Full | all | all | all | all |
//! | Restricted | starter forms only | starter forms only | starter forms only | starter forms only |
//! | Read-Only | only forms I created | starter forms only | starter forms only | only forms I created |
//! | Incomplete (account) | starter forms only | starter forms only | starter forms only | none |

use std::collections::BTreeMap;

use model::district::{AccessOverride, AccessRow, Capability, Scope};
use model::link::AccessTier;
use model::roster::AccountStatus;

/// The whole matrix: a scope for every row and capability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessMatrix {
    cells: BTreeMap<(AccessRow, Capability), Scope>,
}

impl Default for AccessMatrix {
    fn default() -> Self {
        use Capability::*;
        use Scope::*;
        let rows = [
            (AccessRow::Full, [All, All, All, All]),
            (
                AccessRow::Restricted,
                [
                    StarterFormsOnly,
                    StarterFormsOnly,
                    StarterFormsOnly,
                    StarterFormsOnly,
                ],
            ),
            (
                AccessRow::ReadOnly,
                [
                    OwnFormsOnly,
                    StarterFormsOnly,
                    StarterFormsOnly,
                    OwnFormsOnly,
                ],
            ),
            (
                AccessRow::IncompleteAccount,
                [
                    StarterFormsOnly,
                    StarterFormsOnly,
                    StarterFormsOnly,
                    Nothing,
                ],
            ),
        ];
        let caps = [ViewForms, CreateForms, EditForms, ReceiveEmails];
        let cells = rows
            .into_iter()
            .flat_map(|(row, scopes)| {
                caps.into_iter()
                    .zip(scopes)
                    .map(move |(c, s)| ((row, c), s))
            })
            .collect();
        AccessMatrix { cells }
    }
}

impl AccessMatrix {
    /// The default matrix with a district's overrides applied, later ones winning.
    pub fn with_overrides(overrides: &[AccessOverride]) -> Self {
        let mut m = AccessMatrix::default();
        for o in overrides {
            m.cells.insert((o.row, o.capability), o.scope);
        }
        m
    }

    /// The scope of `capability` in `row`.
    pub fn cell(&self, row: AccessRow, capability: Capability) -> Scope {
        self.cells
            .get(&(row, capability))
            .copied()
            .unwrap_or(Scope::Nothing)
    }

    /// What a guardian whose account is `status` may do for a student they are linked to
    /// with `tier`: an incomplete account is held to the Incomplete row whatever the tier.
    pub fn scope(&self, tier: AccessTier, status: AccountStatus, capability: Capability) -> Scope {
        let row = match (status, tier) {
            (AccountStatus::Incomplete, _) => AccessRow::IncompleteAccount,
            (_, AccessTier::Full) => AccessRow::Full,
            (_, AccessTier::Restricted) => AccessRow::Restricted,
            (_, AccessTier::ReadOnly) => AccessRow::ReadOnly,
        };
        self.cell(row, capability)
    }
}
