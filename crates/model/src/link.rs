//! Student–guardian links: origin, access tier and the rule that decided them.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};

use crate::ids::{GuardianId, StudentId};

/// Where a link comes from (SPEC §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkOrigin {
    /// The district's SIS lists it.
    Sis,
    /// Made in our product only; our product is its source of truth.
    Local,
    /// Kept because the guardian created a form for the student.
    Form,
    /// Listed by the district's `guardians.csv`: the latest file is its source of truth.
    Import,
}

/// The source-id prefix of guardians made from a `guardians.csv` file; no SIS id starts
/// with it, so a file's guardians and a SIS's never share an id.
pub const IMPORT_SOURCE_PREFIX: &str = "csv:";

impl LinkOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkOrigin::Sis => "sis",
            LinkOrigin::Local => "local",
            LinkOrigin::Form => "form",
            LinkOrigin::Import => "import",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sis" => Some(LinkOrigin::Sis),
            "local" => Some(LinkOrigin::Local),
            "form" => Some(LinkOrigin::Form),
            "import" => Some(LinkOrigin::Import),
            _ => None,
        }
    }
}

/// What a guardian may do for a student (SPEC §3).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AccessTier {
    Full,
    Restricted,
    ReadOnly,
}

impl AccessTier {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessTier::Full => "full",
            AccessTier::Restricted => "restricted",
            AccessTier::ReadOnly => "read_only",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "full" => Some(AccessTier::Full),
            "restricted" => Some(AccessTier::Restricted),
            "read_only" => Some(AccessTier::ReadOnly),
            _ => None,
        }
    }
}

/// A stable rule id (`ps.rule4.not_decision_making`, `reconcile.local_only`): what support
/// reads back to explain a decision.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct RuleId(String);

impl RuleId {
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which link rules a source's relationships are held to. Each connector names its set;
/// the policy holds the rules of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkRuleSet {
    /// Seed 001's rules 1–5 (`ps.*`): portal accounts, contacts and their e-mails.
    PowerSchool,
    /// Clever contacts listed in a student's relationships (`clever.*`).
    Clever,
    /// OneRoster `agents` between students and guardians (`oneroster.*`).
    OneRoster,
    /// A district's `guardians.csv` rows (`guardians_csv.*`).
    GuardiansCsv,
}

/// The rule behind a decision and the facts it used, by name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Decision {
    pub rule: RuleId,
    pub facts: BTreeMap<String, String>,
}

impl Decision {
    pub fn new(rule: impl Into<String>) -> Self {
        Self {
            rule: RuleId::new(rule),
            facts: BTreeMap::new(),
        }
    }

    pub fn fact(mut self, name: impl Into<String>, value: impl ToString) -> Self {
        self.facts.insert(name.into(), value.to_string());
        self
    }
}

/// A student–guardian link in our product.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Link {
    pub student_id: StudentId,
    pub guardian_id: GuardianId,
    pub origin: LinkOrigin,
    pub tier: AccessTier,
    pub decision: Decision,
    pub updated_at: DateTime<Utc>,
}

/// A guardian account created a form on behalf of a student. The rest of the product
/// records it; the sync reads it (seed 001 reconciliation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FormAuthorship {
    pub guardian_id: GuardianId,
    pub student_id: StudentId,
}
