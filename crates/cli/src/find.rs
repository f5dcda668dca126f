//! `rostersync find`: students, guardians and staff of a district by name, e-mail, phone,
//! student number or source id, through a running server.

use proto::v1 as pb;

use crate::client::{connect, status_error};

/// Prints every person `text` finds in `district`, one line each, page after page (at
/// most `limit` lines).
pub async fn find(
    server: &crate::client::Target,
    district: &str,
    text: &str,
    limit: usize,
) -> anyhow::Result<()> {
    let mut client = connect(server).await?;
    let mut page_token = String::new();
    let mut shown = 0;
    loop {
        let page = client
            .search_roster(pb::SearchRosterRequest {
                district_id: district.into(),
                query: text.into(),
                page_size: i32::try_from(limit.saturating_sub(shown).min(500)).unwrap_or(500),
                page_token,
            })
            .await
            .map_err(status_error)?
            .into_inner();
        for m in &page.matches {
            println!("{}", line(m));
        }
        shown += page.matches.len();
        if page.next_page_token.is_empty() || shown >= limit {
            if !page.next_page_token.is_empty() {
                println!("(more: raise --limit to see them)");
            }
            break;
        }
        page_token = page.next_page_token;
    }
    if shown == 0 {
        println!("nobody in district {district} matches {text:?}");
    }
    Ok(())
}

/// One person: kind, our id, name, what found them, and the keys support asks about.
fn line(m: &pb::RosterMatch) -> String {
    let mut out = format!(
        "{:<8} {}  {} {}  (by {})",
        m.kind, m.id, m.first_name, m.last_name, m.matched
    );
    for (label, value) in [
        ("source", &m.source_id),
        ("number", &m.student_number),
        ("email", &m.email),
    ] {
        if !value.is_empty() {
            out += &format!("  {label} {value}");
        }
    }
    if m.archived {
        out += "  [archived]";
    }
    out
}
