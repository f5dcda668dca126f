//! The Clever connection check: the token answers, it is the configured district's, the
//! district shares schools and students with the application, and which of teachers,
//! staff and sections it lets runs read — each problem in words a district administrator
//! can act on.

use connector::{CheckReport, ConnectorError};

use crate::client::CleverClient;
use crate::wire;

pub async fn check(client: &CleverClient, district_id: &str) -> CheckReport {
    let mut report = CheckReport::default();
    let districts = match client.districts().await {
        Ok(d) => d,
        Err(e) => {
            report.failed("authenticate", token_problem(&e), e.to_string());
            report.skipped("read the district", "authentication failed");
            return report;
        }
    };
    report.passed("authenticate", "Clever accepted the district token");
    let ids: Vec<&str> = districts.iter().map(|d| d.id.as_str()).collect();
    if ids != [district_id] {
        report.failed(
            "district",
            format!(
                "the token is for another district ({}), not {district_id}: ask Clever for this district's token",
                if ids.is_empty() { "none".to_owned() } else { ids.join(", ") }
            ),
            "GET /districts",
        );
        report.skipped("schools", "the token is for another district");
        return report;
    }
    let name = districts
        .first()
        .map(|d| d.name.as_str().to_owned())
        .unwrap_or_default();
    report.passed("district", format!("the token is {name}'s ({district_id})"));
    report.source_version = Some("Clever Data API".into());
    for (step, path, query) in [
        ("schools", "/schools", vec![("limit", "1")]),
        (
            "students",
            "/users",
            vec![("role", "student"), ("limit", "1")],
        ),
    ] {
        match client
            .get::<wire::ListAnswer<serde_json::Value>>(client.url(path, &query))
            .await
        {
            Ok(page) if page.data.is_empty() => report.failed(
                step,
                format!("the district shares no {step} with the application: ask the district to share them in Clever"),
                format!("GET {path}"),
            ),
            Ok(_) => report.passed(step, format!("{step} are shared with the application")),
            Err(e) => report.failed(step, format!("Clever did not list {step}"), e.to_string()),
        }
    }
    // What runs read beyond students and contacts: optional, so a refusal limits the
    // district instead of failing it.
    for (step, path, query, kinds) in [
        (
            "teachers",
            "/users",
            vec![("role", "teacher"), ("limit", "1")],
            "teachers",
        ),
        (
            "staff",
            "/users",
            vec![("role", "staff"), ("limit", "1")],
            "staff",
        ),
        (
            "sections",
            "/sections",
            vec![("limit", "1")],
            "classrooms and their enrollments",
        ),
    ] {
        let read = client
            .get::<wire::ListAnswer<serde_json::Value>>(client.url(path, &query))
            .await;
        report.optional(step, kinds, &read);
    }
    report
}

fn token_problem(e: &ConnectorError) -> String {
    match e {
        ConnectorError::Unauthorized { .. } => {
            "Clever refused the token: it was revoked or is not a district-app token; ask Clever for a new one".into()
        }
        ConnectorError::TargetRefused { reason, .. } => {
            format!("the service may not send requests to this API host ({reason})")
        }
        ConnectorError::Unreachable { .. } | ConnectorError::Timeout { .. } => {
            "cannot reach the Clever API: check the API host".into()
        }
        _ => "Clever did not answer as expected: try again, or contact support".into(),
    }
}
