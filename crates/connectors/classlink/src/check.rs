//! The ClassLink connection check, each failure in words a district administrator can
//! act on: discovery finds the tenant and its grant of our application (and that it is
//! enabled), the Roster Server accepts the credentials, the district shares schools
//! and students with the application, and which of teachers, classes and enrollments it
//! lets runs read.

use connector::{CheckReport, ConnectorError};

use crate::client::ClassLinkClient;
use crate::settings::ServerTarget;
use crate::wire::{self, ListKey};

pub async fn check(client: &ClassLinkClient) -> CheckReport {
    let mut report = CheckReport::default();
    let settings = client.settings();
    let (tenant, application) = (settings.tenant_id, settings.application_id);
    let discovered = matches!(settings.target, ServerTarget::Discovered { .. });
    let server = match client.server().await {
        Ok(server) => server,
        Err(e) => {
            report.failed(
                "find the Roster Server",
                discovery_problem(&e, tenant, application),
                e.to_string(),
            );
            report.skipped("authenticate", "the Roster Server was not found");
            return report;
        }
    };
    if discovered {
        let name = server
            .tenant_name
            .clone()
            .unwrap_or_else(|| format!("tenant {tenant}"));
        report.passed(
            "find the Roster Server",
            format!(
                "{name} granted application {application}; its Roster Server is {}",
                server.api.origin().ascii_serialization()
            ),
        );
    } else {
        report.passed(
            "find the Roster Server",
            format!(
                "the Roster Server is {}",
                server.api.origin().ascii_serialization()
            ),
        );
    }
    report.source_version = Some(format!("OneRoster {}", settings.version.as_str()));
    let count = |key: ListKey, endpoint: &'static str| {
        move |a: connector::http::Answer| -> Result<(usize, Option<u64>), ConnectorError> {
            let rows: Vec<serde_json::Value> =
                wire::list(&a.body, key).map_err(|reason| ConnectorError::Malformed {
                    endpoint: endpoint.into(),
                    reason,
                })?;
            Ok((rows.len(), a.header_number("x-total-count")))
        }
    };
    let schools = client
        .get_with(
            "/schools",
            &[("limit", "1")],
            count(ListKey::Orgs, "GET /schools"),
        )
        .await;
    match schools {
        Err(e) => {
            report.failed("authenticate", credentials_problem(&e), e.to_string());
            report.skipped("schools", "authentication failed");
            report.skipped("students", "authentication failed");
            return report;
        }
        Ok((rows, total)) => {
            report.passed(
                "authenticate",
                "the Roster Server accepted rostersync's credentials",
            );
            report.schools = total.or(Some(rows as u64));
            if rows == 0 {
                report.failed(
                    "schools",
                    "the district shares no schools with the application: ask the district to share them in ClassLink",
                    "GET /schools",
                );
            } else {
                report.passed("schools", "schools are shared with the application");
            }
        }
    }
    match client
        .get_with("/students", &[("limit", "1")], count(ListKey::Users, "GET /students"))
        .await
    {
        Ok((0, _)) => report.failed(
            "students",
            "the district shares no students with the application: ask the district to share them (and, for students in no class, turn on Unenrolled Users) in ClassLink",
            "GET /students",
        ),
        Ok((rows, total)) => {
            report.students = total.or(Some(rows as u64));
            report.passed("students", "students are shared with the application");
        }
        Err(e) => report.failed("students", "the Roster Server did not list students", e.to_string()),
    }
    // What runs read beyond students and guardians: optional, so a refusal limits the
    // district instead of failing it.
    let mut optional = vec![
        ("classes", "/classes", ListKey::Classes, "classrooms"),
        (
            "enrollments",
            "/enrollments",
            ListKey::Enrollments,
            "enrollments",
        ),
    ];
    if settings.version == crate::settings::OneRosterVersion::V1_1 {
        optional.insert(0, ("teachers", "/teachers", ListKey::Users, "staff"));
    }
    for (step, path, key, kinds) in optional {
        let read = client
            .get_with(path, &[("limit", "1")], count(key, "GET /optional"))
            .await;
        report.optional(step, kinds, &read);
    }
    report
}

fn discovery_problem(e: &ConnectorError, tenant: u64, application: u64) -> String {
    match e {
        ConnectorError::WrongDistrict { reason, .. } if reason.starts_with("no tenant") => format!(
            "ClassLink knows no tenant {tenant} that granted rostersync: check the District Tenant ID, or ask the district to add the application in ClassLink"
        ),
        ConnectorError::WrongDistrict { reason, .. } if reason.contains("is disabled") => format!(
            "application {application} is disabled for tenant {tenant}: ask the district to enable it in ClassLink"
        ),
        ConnectorError::WrongDistrict { .. } => format!(
            "tenant {tenant} has not granted application {application}: check the application_id"
        ),
        ConnectorError::NotFound { .. } => format!(
            "ClassLink has no Roster Server for application {application}: ask ClassLink support"
        ),
        ConnectorError::Unauthorized { .. } => {
            "ClassLink refused rostersync's partner key: check the partner_token".into()
        }
        ConnectorError::TargetRefused { reason, .. } => {
            format!("the service may not send requests to this discovery URL ({reason})")
        }
        ConnectorError::Unreachable { .. } | ConnectorError::Timeout { .. } => {
            "cannot reach ClassLink: check the discovery URL".into()
        }
        _ => "ClassLink did not answer as expected: try again, or contact support".into(),
    }
}

fn credentials_problem(e: &ConnectorError) -> String {
    match e {
        ConnectorError::Unauthorized { .. } => {
            "the Roster Server refused the credentials: check the client id and secret (or the token URL)".into()
        }
        ConnectorError::Forbidden { .. } => {
            "the Roster Server refused access: ask the district to grant the application rostering permissions".into()
        }
        ConnectorError::NotFound { .. } => {
            "the Roster Server has no OneRoster API at this path: check the OneRoster version and api_root".into()
        }
        ConnectorError::TargetRefused { reason, .. } => {
            format!("the service may not send requests to this Roster Server ({reason})")
        }
        ConnectorError::Unreachable { .. } | ConnectorError::Timeout { .. } => {
            "cannot reach the Roster Server: check the base URL".into()
        }
        _ => "the Roster Server did not answer as expected: try again, or contact support".into(),
    }
}
