//! `check`: can we authenticate and see the district? Each step names what is wrong in
//! words a district administrator can act on, and keeps the technical cause for support.

use connector::{CheckReport, ConnectorError};

use crate::client::PsClient;
use crate::fields;
use crate::pull::STATUS_FILTER;
use crate::wire;

/// Runs every step it can; later steps are skipped once the server or the credentials
/// fail, since nothing after them can succeed.
pub async fn check(client: &PsClient, base: &url::Url) -> CheckReport {
    let mut report = CheckReport::default();
    let host = base.host_str().unwrap_or("the server").to_owned();

    // The district's token: the one runs and spot syncs use, asked for only if none is
    // held or it is about to expire.
    if let Err(e) = client.token().await {
        report.failed("authenticate", token_problem(&e, &host), e.to_string());
        report.skipped("read the district", "authentication failed");
        return report;
    }
    report.passed(
        "authenticate",
        "PowerSchool accepted the plugin's client id and secret",
    );

    match client.limits().await {
        Ok(limits) => {
            report.source_version = Some(format!("PowerSchool {}", limits.version));
            report.passed(
                "server details",
                format!(
                    "PowerSchool {}; up to {} students per request",
                    limits.version, limits.student_page
                ),
            );
        }
        Err(e) => {
            report.failed(
                "server details",
                problem(&e, "read the server's details (/ws/v1/metadata)"),
                e.to_string(),
            );
            report.skipped(
                "read the district",
                "the server's details could not be read",
            );
            return report;
        }
    }

    match client.v1_count("/ws/v1/district/school", &[]).await {
        Ok(0) => report.failed(
            "schools",
            "PowerSchool shows this plugin no schools: check that the plugin is enabled for the district office and that schools exist",
            "GET /ws/v1/district/school/count answered 0",
        ),
        Ok(n) => {
            report.schools = Some(n);
            report.passed("schools", format!("{n} schools visible"));
        }
        Err(e) => report.failed("schools", problem(&e, "list schools"), e.to_string()),
    }
    match client
        .v1_count("/ws/v1/district/student", &[("q", STATUS_FILTER)])
        .await
    {
        Ok(n) => {
            report.students = Some(n);
            report.passed(
                "students",
                format!("{n} active or pre-registered students visible"),
            );
        }
        Err(e) => report.failed("students", problem(&e, "count students"), e.to_string()),
    }

    optional_kinds(client, &mut report).await;

    let page = [("pagesize", "1"), ("page", "1")];
    for table in fields::TABLE_READS {
        let projection = table.projection();
        let mut query = vec![("projection", projection.as_str())];
        query.extend(page);
        let step = format!("read {}", table.table);
        match client
            .get::<wire::RecordsAnswer>(&table.path(), &query)
            .await
        {
            Ok(_) => report.passed(
                &step,
                format!("fields {} readable", table.columns.join(", ")),
            ),
            Err(e) => report.failed(&step, table_problem(&e, table.table), e.to_string()),
        }
    }
    let query = &fields::STUDENT_GUARDIAN_DETAIL;
    let step = "guardian accounts".to_owned();
    match client
        .post::<wire::CountValue>(
            &format!("{}/count", query.path()),
            &[],
            &serde_json::json!({}),
        )
        .await
    {
        Ok(count) => report.passed(
            &step,
            format!(
                "{} lists {} student-guardian access records",
                query.name,
                count.count.as_str()
            ),
        ),
        Err(e) => report.failed(&step, table_problem(&e, query.name), e.to_string()),
    }
    report
}

/// Probes the optional kinds (staff; sections, with their enrollments) at the first
/// school. A refusal (403, 404) is not a failed check — the district syncs without
/// those kinds — so it is a limited step saying what the district will not get and why.
async fn optional_kinds(client: &PsClient, report: &mut CheckReport) {
    let first = client
        .get::<wire::SchoolsAnswer>(
            "/ws/v1/district/school",
            &[("pagesize", "1"), ("page", "1")],
        )
        .await
        .map(|a| a.schools.school.0.into_iter().next());
    let school = match first {
        Ok(Some(school)) => school.id.as_str().to_owned(),
        // No school, or no school list: the schools step says why.
        Ok(None) | Err(_) => return,
    };
    let probes = [
        (
            "staff",
            "staff",
            "staff (and so the classrooms' enrollments)",
        ),
        ("sections", "section", "classrooms and their enrollments"),
    ];
    for (step, resource, kinds) in probes {
        let path = format!("/ws/v1/school/{school}/{resource}");
        match client.v1_count(&path, &[]).await {
            Ok(n) => report.passed(step, format!("{n} {step} visible at the first school")),
            Err(e) => report.optional(step, kinds, &Err::<(), _>(e)),
        }
    }
    // A section's enrollments, at the first section of the first school.
    let sections = format!("/ws/v1/school/{school}/section");
    let first = client
        .get::<serde_json::Value>(&sections, &[("pagesize", "1"), ("page", "1")])
        .await
        .ok()
        .and_then(|a| first_section_id(&a));
    if let Some(section) = first {
        let path = format!("/ws/v1/section/{section}/section_enrollment");
        match client.v1_count(&path, &[]).await {
            Ok(n) => report.passed(
                "section enrollments",
                format!("{n} enrollments visible in the first section"),
            ),
            Err(e) => report.optional("section enrollments", "enrollments", &Err::<(), _>(e)),
        }
    }
}

/// The id of the first section of a `/ws/v1/school/{id}/section` page (a one-element
/// list arrives as a bare object, reference §2).
fn first_section_id(answer: &serde_json::Value) -> Option<String> {
    let section = &answer["sections"]["section"];
    let first = section
        .as_array()
        .and_then(|a| a.first())
        .unwrap_or(section);
    match &first["id"] {
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

fn token_problem(e: &ConnectorError, host: &str) -> String {
    match e {
        ConnectorError::Unauthorized { .. } | ConnectorError::Forbidden { .. } => {
            "PowerSchool refused the client id and secret: copy them again from the plugin's \
             Data Provider Configuration page (System > System Settings > Plugin Management \
             Dashboard), and check that the plugin is enabled"
                .to_owned()
        }
        ConnectorError::NotFound { .. } => format!(
            "{host} has no PowerSchool token endpoint (/oauth/access_token): check the base URL \
             is the district's PowerSchool address"
        ),
        other => problem(other, "ask for a token"),
    }
}

fn table_problem(e: &ConnectorError, what: &str) -> String {
    match e {
        ConnectorError::Forbidden { detail, .. } => format!(
            "the plugin may not read {what} ({detail}): install the plugin XML from \
             `rostersync plugin-xml`, enable it again and approve the fields it requests"
        ),
        ConnectorError::NotFound { .. } => format!(
            "this PowerSchool has no {what}: the district's PowerSchool lacks it (u_ tables \
             are district extensions) or the plugin was not given access to it"
        ),
        ConnectorError::Http {
            status: 400,
            detail,
            ..
        } => format!(
            "PowerSchool refused the fields read from {what} ({detail}): a field the \
             connector needs is missing in this PowerSchool"
        ),
        other => problem(other, &format!("read {what}")),
    }
}

fn problem(e: &ConnectorError, action: &str) -> String {
    match e {
        ConnectorError::TargetRefused { reason, .. } => format!(
            "the service may not send requests to this base URL ({reason}): give the district's public PowerSchool address"
        ),
        ConnectorError::Unreachable { .. } => format!(
            "cannot reach the PowerSchool server to {action}: check the base URL and that \
             the server accepts connections from this service"
        ),
        ConnectorError::Timeout { .. } => format!(
            "the PowerSchool server did not answer in time to {action}; it may be down or \
             overloaded"
        ),
        ConnectorError::Unauthorized { detail, .. } if detail.contains("accessLevelV1Api") => {
            "the plugin lacks read access to the PowerSchool API (/ws/v1): install the plugin \
             XML from `rostersync plugin-xml` (it asks for accessLevelV1Api READ) or set API \
             access to READ on the plugin's Data Provider Configuration page"
                .to_owned()
        }
        ConnectorError::Unauthorized { .. } => format!(
            "PowerSchool refused the plugin's token to {action}: check that the plugin is \
             still enabled"
        ),
        ConnectorError::Forbidden { detail, .. } => format!(
            "the plugin is not allowed to {action} ({detail}): enable it again and approve \
             the fields it requests"
        ),
        ConnectorError::Throttled { .. } => format!(
            "PowerSchool kept refusing requests as too frequent while trying to {action}: \
             raise the plugin's minimum request interval setting here, or lower it there"
        ),
        other => format!("could not {action}: {other}"),
    }
}
