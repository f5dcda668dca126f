//! E-mail to a district's people (seed 003): *Import Results* when a run ends, *Check
//! Your Data* when a threshold holds one — plain words a district administrator acts on —
//! sent through the service's SMTP server.

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use model::district::District;
use model::notify::{Outcome, RunEvent};
use model::run::RunTrigger;

/// How long an SMTP server has to take a message.
const SEND_WITHIN: std::time::Duration = std::time::Duration::from_secs(20);

/// The service's way out for e-mail.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// Shows the sender only: the server's URL may hold a password.
impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl Mailer {
    /// A mailer for the SMTP server at `url` (`smtp://host:25` plain, `smtp://host:587?tls=required`
    /// for STARTTLS, `smtps://user:password@host:465` for TLS), sending as `from`.
    pub fn new(url: &str, from: &str) -> Result<Mailer, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("smtp_url: {e}"))?
            .timeout(Some(SEND_WITHIN))
            .build();
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| format!("smtp_from: {e}"))?;
        Ok(Mailer { transport, from })
    }

    /// Sends one message to every address of `to`.
    pub async fn send(&self, to: &[String], subject: &str, body: String) -> Result<(), String> {
        let mut message = Message::builder().from(self.from.clone()).subject(subject);
        for address in to {
            let mailbox = address
                .parse::<Mailbox>()
                .map_err(|e| format!("{}: {e}", model::limits::echo(address)))?;
            message = message.to(mailbox);
        }
        let message = message
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| e.to_string())?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| model::limits::cut(&e.to_string(), 500))
    }
}

fn what_ran(trigger: RunTrigger) -> &'static str {
    match trigger {
        RunTrigger::Manual => "sync started by hand",
        RunTrigger::Schedule => "nightly sync",
        RunTrigger::Import => "guardians.csv import",
        RunTrigger::Revert => "undo of an earlier run",
    }
}

/// `student.create` → `students created`.
fn in_words(key: &str) -> String {
    let (entity, op) = key.split_once('.').unwrap_or((key, ""));
    let plural = match entity {
        "staff" => "staff".to_owned(),
        "link" => "guardian links".to_owned(),
        "form_author" => "form authors".to_owned(),
        e => format!("{e}s"),
    };
    let done = match op {
        "create" => "created",
        "update" => "updated",
        "archive" => "archived",
        "unarchive" => "brought back",
        "delete" => "removed",
        "rekey" => "re-keyed",
        other => other,
    };
    format!("{plural} {done}")
}

/// The subject and plain-text body of the message `event` sends (`test`: a sample, said
/// to be one).
pub fn message(district: &District, event: &RunEvent, test: bool) -> (String, String) {
    let s = &event.summary;
    let name = &district.name;
    if test {
        return (
            format!("Test notification: {name}"),
            format!(
                "This is a sample of what rostersync sends this address when a run of {name} \
                 (district {}) ends or is held for review. Nothing ran.\n",
                s.district_id
            ),
        );
    }
    let what = what_ran(s.trigger);
    let dry = if s.mode == model::run::RunMode::DryRun {
        " (a dry run: nothing is ever written)"
    } else {
        ""
    };
    let (subject, mut body) = match s.outcome {
        Outcome::Held => (
            format!("Check Your Data: {name}: {what} waiting for your review"),
            held(
                s,
                &format!("The {what} of {name} (district {})", s.district_id),
                dry,
            ),
        ),
        outcome => {
            let how = match outcome {
                Outcome::Succeeded => "finished",
                Outcome::Failed => "failed",
                _ => "was cancelled",
            };
            (
                format!("Import Results: {name}: {what} {how}"),
                results(
                    s,
                    &format!(
                        "The {what} of {name} (district {}) {how}{dry}.",
                        s.district_id
                    ),
                ),
            )
        }
    };
    body += &format!("\nRun {} · event {}\n", s.run_id, event.seq);
    (subject, body)
}

/// *Check Your Data*: each threshold tripped, and how to review the run.
fn held(s: &model::notify::RunSummary, opening: &str, dry: &str) -> String {
    let mut body = format!(
        "{opening} was paused before changing anything{dry}: it would change more than the \
         district's thresholds allow.\n\n"
    );
    for t in &s.thresholds_tripped {
        let limit = match (t.max_percent, t.max_count) {
            (Some(p), _) => format!("the limit is {p}%"),
            (None, Some(n)) => format!("the limit is {n}"),
            (None, None) => "over its limit".into(),
        };
        body += &format!(
            "- {}: {} of {} ({limit})\n",
            t.limit.replace('_', " "),
            t.count,
            t.of
        );
    }
    body += &format!(
        "\nNothing has been changed. Review what it would do, then approve it or cancel \
         it:\n  rostersync sync changes --district {d} {r}\n  rostersync sync approve \
         --district {d} {r}\n  rostersync sync cancel --district {d} {r}\n\
         If the data in your SIS is wrong, correct it there, cancel this run and sync \
         again.\n",
        d = s.district_id,
        r = s.run_id
    );
    body
}

/// *Import Results*: why it failed, the changes in words, the records skipped.
fn results(s: &model::notify::RunSummary, opening: &str) -> String {
    let mut body = format!("{opening}\n\n");
    if let Some(why) = &s.first_failure {
        body += &format!("Why: {why}\n\n");
    }
    if s.counts.is_empty() {
        body += "It planned no changes.\n";
    } else {
        body += &format!("Changes ({} of {} applied):\n", s.applied, s.plan_items);
        for (key, n) in &s.counts {
            body += &format!("- {n} {}\n", in_words(key));
        }
        if s.excluded > 0 {
            body += &format!(
                "{} of them were kept out when the run was approved; the next run plans them again.\n",
                s.excluded
            );
        }
    }
    if s.warnings > 0 {
        let records = if s.warnings == 1 {
            "1 record was".to_owned()
        } else {
            format!("{} records were", s.warnings)
        };
        body += &format!(
            "\n{records} skipped with a warning; the run's details list them:\n  \
             rostersync sync show --district {} {}\n",
            s.district_id, s.run_id
        );
    }
    body
}
