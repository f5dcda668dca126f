//! What a district is told when a run ends or is held (seed 003: *Import Results* after
//! every import, *Check Your Data* when a threshold paused one): a run's summary, written
//! as an event in the same transaction as the run's state, and numbered in the order the
//! transactions committed.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::error::ValidationErrors;
use crate::limits;
use crate::run::{RunMode, RunState, RunTrigger, SyncRun, ThresholdTrip};
use crate::secret::Secret;

/// Subscribers a district may have.
pub const MAX_SUBSCRIBERS: usize = 10;
/// E-mail addresses one subscriber may list.
pub const MAX_EMAILS: usize = 20;
/// The shortest webhook signing secret.
pub const MIN_SECRET: usize = 16;

/// Who is told of a district's runs: a webhook (an HTTPS URL and the secret its requests
/// are signed with), or people by e-mail (seed 003's *Import Results* and *Check Your
/// Data* messages).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Subscriber {
    /// Unique in the district: lowercase letters, digits and `-`.
    pub name: String,
    /// Empty for an e-mail subscriber.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub webhook_url: String,
    /// Empty for a webhook.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
    /// The webhook's signing secret (HMAC-SHA256). Write-only; the store keeps it sealed
    /// apart from the settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
}

/// Checks a district's subscribers.
pub fn validate_subscribers(subscribers: &[Subscriber], errors: &mut ValidationErrors) {
    if subscribers.len() > MAX_SUBSCRIBERS {
        errors.push(
            "subscribers",
            format!(
                "{} subscribers; at most {MAX_SUBSCRIBERS}",
                subscribers.len()
            ),
        );
    }
    limits::unique(
        "subscribers.name",
        subscribers.iter().map(|s| {
            (
                s.name.clone(),
                format!("the name {}", limits::echo(&s.name)),
            )
        }),
        errors,
    );
    for (i, s) in subscribers.iter().enumerate() {
        let at = format!("subscribers[{i}]");
        let name_ok = (1..=40).contains(&s.name.len())
            && s.name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !name_ok {
            errors.push(
                format!("{at}.name"),
                format!(
                    "{} is not a subscriber name: 1 to 40 lowercase letters, digits and '-'",
                    limits::echo(&s.name)
                ),
            );
        }
        match (s.webhook_url.is_empty(), s.emails.is_empty()) {
            (true, true) => errors.push(at.clone(), "give a webhook_url or e-mail addresses"),
            (false, false) => errors.push(
                at.clone(),
                "give a webhook_url or e-mail addresses, not both: make two subscribers",
            ),
            (true, false) => {
                validate_emails(&at, &s.emails, errors);
                if s.secret.is_some() {
                    errors.push(format!("{at}.secret"), "an e-mail subscriber has no secret");
                }
                continue;
            }
            (false, true) => {}
        }
        if let Err(why) = webhook_url(&s.webhook_url) {
            errors.push(format!("{at}.webhook_url"), why);
        }
        match &s.secret {
            Some(secret)
                if secret.expose().chars().count() >= MIN_SECRET
                    && secret.expose().len() <= 200
                    && !secret.expose().chars().any(char::is_control) => {}
            _ => errors.push(
                format!("{at}.secret"),
                format!("a webhook needs its signing secret: {MIN_SECRET} to 200 characters, no control characters"),
            ),
        }
    }
}

fn validate_emails(at: &str, emails: &[String], errors: &mut ValidationErrors) {
    if emails.len() > MAX_EMAILS {
        errors.push(
            format!("{at}.emails"),
            format!("{} addresses; at most {MAX_EMAILS}", emails.len()),
        );
    }
    for (i, email) in emails.iter().enumerate() {
        if !is_email(email) {
            errors.push(
                format!("{at}.emails[{i}]"),
                format!("{} is not an e-mail address", limits::echo(email)),
            );
        }
    }
}

/// An address of the plain `local@domain.tld` form, without display names or lists.
fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    s.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !s.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, ',' | ';' | '<' | '>' | '"')
        })
}

/// A webhook's URL: `https://`, or `http://` to the loopback (a receiver on this host).
pub fn webhook_url(raw: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(raw).map_err(|_| format!("{} is not a URL", limits::echo(raw)))?;
    if raw.len() > 2_000 || raw.chars().any(char::is_control) {
        return Err("is longer than 2000 characters or holds a control character".into());
    }
    let loopback = matches!(
        url.host(),
        Some(url::Host::Domain("localhost"))
            | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
            | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
    );
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(format!("{} is not an https:// URL", limits::echo(raw))),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password".into());
    }
    Ok(url)
}

/// How a run ended, or that it is held for review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded,
    Failed,
    Cancelled,
    /// Paused by a threshold: someone must review it, then approve or cancel it.
    Held,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::Cancelled => "cancelled",
            Outcome::Held => "held",
        }
    }

    /// The outcome a run in `state` has; `None` while it is still moving.
    pub fn of(state: RunState) -> Option<Outcome> {
        match state {
            RunState::Succeeded => Some(Outcome::Succeeded),
            RunState::Failed => Some(Outcome::Failed),
            RunState::Cancelled => Some(Outcome::Cancelled),
            RunState::Paused => Some(Outcome::Held),
            RunState::Running | RunState::Cancelling => None,
        }
    }
}

/// A run as its district's subscribers are told it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunSummary {
    pub district_id: String,
    pub run_id: String,
    pub trigger: RunTrigger,
    pub mode: RunMode,
    pub outcome: Outcome,
    /// Planned changes by `entity.operation` (`student.create`, `link.delete`, …).
    pub counts: BTreeMap<String, u64>,
    pub plan_items: u64,
    pub applied: u64,
    /// Plan items the approver kept out (planned again by the next run).
    #[serde(default)]
    pub excluded: u64,
    pub thresholds_tripped: Vec<ThresholdTrip>,
    pub warnings: u64,
    /// Why it failed or was cancelled, in words.
    pub first_failure: Option<String>,
    /// When the run ended or was held.
    pub at: DateTime<Utc>,
}

impl RunSummary {
    /// The summary of a run that ended or is held; `None` for one still moving.
    pub fn of(run: &SyncRun, at: DateTime<Utc>) -> Option<RunSummary> {
        let outcome = Outcome::of(run.state)?;
        Some(RunSummary {
            district_id: run.district_id.to_string(),
            run_id: run.id.to_string(),
            trigger: run.trigger,
            mode: run.mode,
            outcome,
            counts: run.counts.planned.clone(),
            plan_items: run.counts.plan_items,
            applied: run.counts.applied,
            excluded: run.counts.excluded,
            thresholds_tripped: run.trips.clone(),
            warnings: run.counts.warnings,
            first_failure: match outcome {
                Outcome::Failed | Outcome::Cancelled => run.error.clone(),
                Outcome::Succeeded | Outcome::Held => None,
            },
            at,
        })
    }
}

/// A summary with its place in the order events were committed (from 1, no gaps).
#[derive(Debug, Clone, PartialEq)]
pub struct RunEvent {
    pub seq: u64,
    pub summary: RunSummary,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::RunId;
    use crate::run::{RunCounts, RunPhase};

    fn run(state: RunState) -> SyncRun {
        SyncRun {
            id: RunId::new(),
            district_id: "cbe".parse().expect("id"),
            mode: RunMode::Full,
            trigger: RunTrigger::Import,
            state,
            phase: RunPhase::Done,
            error: Some("the source stopped answering".into()),
            counts: RunCounts {
                planned: BTreeMap::from([("student.create".into(), 3)]),
                plan_items: 3,
                applied: 3,
                warnings: 2,
                ..RunCounts::default()
            },
            trips: vec![],
            warnings: vec![],
            created_at: Utc::now(),
            started_at: None,
            finished_at: None,
            approved_at: None,
            request_id: None,
            phases: vec![],
            by: Default::default(),
            exclusions: vec![],
            revert: None,
        }
    }

    fn hook(name: &str, url: &str, secret: &str) -> Subscriber {
        Subscriber {
            name: name.into(),
            webhook_url: url.into(),
            emails: vec![],
            secret: Some(Secret::new(secret)),
        }
    }

    fn refusals(subscribers: &[Subscriber]) -> String {
        let mut errors = ValidationErrors::new();
        validate_subscribers(subscribers, &mut errors);
        errors.to_string()
    }

    #[test]
    fn a_subscriber_is_refused_naming_what_is_wrong() {
        let good = hook("ops", "https://hooks.example.org/rs", "0123456789abcdef");
        let mail = Subscriber {
            name: "office".into(),
            emails: vec!["admin@district.example".into()],
            ..Subscriber::default()
        };
        assert_eq!(refusals(&[good.clone(), mail]), "");
        assert_eq!(
            refusals(&[hook("local", "http://127.0.0.1:9000/x", "0123456789abcdef")]),
            "",
            "plain http to the loopback"
        );
        for (bad, field, says) in [
            (
                hook("ops", "http://hooks.example.org/", "0123456789abcdef"),
                "webhook_url",
                "https",
            ),
            (
                hook("ops", "https://u:p@hooks.example.org/", "0123456789abcdef"),
                "webhook_url",
                "password",
            ),
            (
                hook("ops", "https://hooks.example.org/", "short"),
                "secret",
                "16 to 200",
            ),
            (
                hook("Ops!", "https://hooks.example.org/", "0123456789abcdef"),
                "name",
                "subscriber name",
            ),
            (
                Subscriber {
                    name: "x".into(),
                    emails: vec!["not an address".into()],
                    ..Subscriber::default()
                },
                "emails[0]",
                "not an e-mail",
            ),
            (
                Subscriber {
                    emails: vec!["a@b.example".into()],
                    ..hook("x", "https://hooks.example.org/", "0123456789abcdef")
                },
                "subscribers[0]",
                "not both",
            ),
            (hook("x", "", ""), "subscribers[0]", "webhook_url or e-mail"),
        ] {
            let told = refusals(&[bad]);
            assert!(
                told.contains(field) && told.contains(says),
                "{field}: {told}"
            );
        }
        let twice = refusals(&[good.clone(), good]);
        assert!(twice.contains("repeats"), "{twice}");
    }

    #[test]
    fn only_a_run_that_ended_or_is_held_is_told() {
        let now = Utc::now();
        for moving in [RunState::Running, RunState::Cancelling] {
            assert_eq!(RunSummary::of(&run(moving), now), None);
        }
        let failed = RunSummary::of(&run(RunState::Failed), now).expect("told");
        assert_eq!(failed.outcome, Outcome::Failed);
        assert_eq!(
            failed.first_failure.as_deref(),
            Some("the source stopped answering")
        );
        let held = RunSummary::of(&run(RunState::Paused), now).expect("told");
        assert_eq!((held.outcome, held.first_failure), (Outcome::Held, None));
        let done = RunSummary::of(&run(RunState::Succeeded), now).expect("told");
        assert_eq!(done.counts["student.create"], 3);
        assert_eq!((done.warnings, done.trigger), (2, RunTrigger::Import));
    }
}
