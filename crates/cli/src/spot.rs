//! `rostersync spot-sync` and `rostersync why`: one user now, and why a link is as it is.

use proto::v1 as pb;

use crate::changes::ChangePrinter;
use crate::client::{connect, status_error};

/// The user of a spot sync, by our id.
#[derive(Debug, Clone)]
pub enum User {
    Student(String),
    Guardian(String),
}

/// Brings one user up to date (or, dry, says what would change) and prints the changes.
pub async fn spot_sync(
    server: &crate::client::Target,
    district: &str,
    who: User,
    dry_run: bool,
) -> anyhow::Result<()> {
    let mut client = connect(server).await?;
    let (user, oneof) = match who {
        User::Student(id) => (id.clone(), pb::spot_sync_request::User::StudentId(id)),
        User::Guardian(id) => (id.clone(), pb::spot_sync_request::User::GuardianId(id)),
    };
    let out = client
        .spot_sync(pb::SpotSyncRequest {
            district_id: district.into(),
            user: Some(oneof),
            dry_run,
            request_id: String::new(),
        })
        .await
        .map_err(status_error)?
        .into_inner();
    let verb = if dry_run { "would change" } else { "changed" };
    println!(
        "spot sync {} of {} {user}: {} {verb}",
        out.spot_sync_id,
        crate::sync::entity_name(out.user_kind),
        out.changes.len()
    );
    let mut printer = ChangePrinter::new(false)?;
    for c in &out.changes {
        printer.print(c)?;
    }
    printer.finish()
}

/// The link between a student and a guardian: tier, origin, the rule and its facts.
pub async fn why(
    server: &crate::client::Target,
    district: &str,
    student: &str,
    guardian: &str,
) -> anyhow::Result<()> {
    let mut client = connect(server).await?;
    let links = client
        .list_student_links(pb::ListStudentLinksRequest {
            district_id: district.into(),
            student_id: student.into(),
            ..Default::default()
        })
        .await
        .map_err(status_error)?
        .into_inner()
        .links;
    let Some(link) = links.into_iter().find(|l| l.guardian_id == guardian) else {
        anyhow::bail!(
            "student {student} has no link to guardian {guardian} in district {district}"
        );
    };
    let tier = pb::AccessTier::try_from(link.tier)
        .map(|t| t.as_str_name())
        .unwrap_or("unknown");
    let origin = pb::LinkOrigin::try_from(link.origin)
        .map(|o| o.as_str_name())
        .unwrap_or("unknown");
    println!(
        "{} ({}) → student {student}",
        link.guardian_name, link.guardian_email
    );
    println!(
        "  tier:   {}",
        tier.trim_start_matches("ACCESS_TIER_").to_lowercase()
    );
    println!(
        "  origin: {}",
        origin.trim_start_matches("LINK_ORIGIN_").to_lowercase()
    );
    println!("  rule:   {}", link.rule_id);
    for (name, value) in &link.facts {
        println!("    {name}: {value}");
    }
    println!("  why:    {}", link.explanation);
    Ok(())
}
