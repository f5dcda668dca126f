//! The strict modes of each source's simulator, each with the outcome a run must have,
//! and what the source holds to hold a stored roster to.

use proto::v1 as pb;

use crate::harness::{connector, powerschool_connector};

/// What a run in one mode must end in.
#[derive(Debug, Clone, Copy)]
pub(super) enum Expect {
    /// Succeeded, every record of every kind stored.
    Whole,
    /// As `Whole`, with a warning holding this text.
    WholeWarning(&'static str),
    /// Succeeded with every student and guardian; these kinds named in a warning and
    /// none of them created.
    Without(&'static [&'static str]),
    /// Failed, the error holding this text, nothing written.
    Fails(&'static str),
}

/// What the source holds, to hold the stored roster to.
#[derive(Debug, Default)]
pub(super) struct Truth {
    pub(super) students: u64,
    pub(super) staff: u64,
    pub(super) classrooms: u64,
    /// A student's source id and its e-mail.
    pub(super) student_email: Option<(String, String)>,
}

/// A running simulator of any source, kept alive for the run.
pub(super) enum Sim {
    PowerSchool(sim::powerschool::Simulator),
    Clever(sim::clever::Simulator),
    OneRoster(sim::oneroster::Simulator),
}

pub(super) struct Case {
    pub(super) name: &'static str,
    pub(super) sim: Sim,
    pub(super) connector: pb::ConnectorConfig,
    pub(super) settings: Option<pb::DistrictSettings>,
    pub(super) expect: Expect,
}

pub(super) async fn powerschool(
    name: &'static str,
    page_cap: Option<u32>,
    refused: sim::powerschool::Refusals,
    expect: Expect,
) -> Case {
    let sim = sim::powerschool::Simulator::start(sim::powerschool::SimConfig {
        page_cap,
        ..Default::default()
    })
    .await
    .expect("powerschool simulator");
    sim.set_plugin(sim::powerschool::PluginState {
        refused,
        ..Default::default()
    });
    let connector =
        powerschool_connector(&sim.base_url(), sim.client_id(), sim.client_secret(), &[]);
    Case {
        name,
        sim: Sim::PowerSchool(sim),
        connector,
        settings: None,
        expect,
    }
}

pub(super) fn clever_settings() -> Option<pb::DistrictSettings> {
    Some(pb::DistrictSettings {
        phone_types: Some(pb::TypeSelection {
            all: false,
            values: vec!["cell".into()],
        }),
        ..Default::default()
    })
}

pub(super) async fn clever(
    name: &'static str,
    quirks: sim::clever::Quirks,
    district_id: Option<&str>,
    expect: Expect,
) -> Case {
    let sim = sim::clever::Simulator::start(sim::clever::CleverSimConfig {
        quirks,
        ..Default::default()
    })
    .await
    .expect("clever simulator");
    let connector = connector(
        "clever",
        &[
            ("district_id", district_id.unwrap_or(sim.district_id())),
            ("api_base_url", &sim.base_url()),
            ("page_size", "25"),
        ],
        &[("district_token", sim.token())],
    );
    Case {
        name,
        sim: Sim::Clever(sim),
        connector,
        settings: clever_settings(),
        expect,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Version {
    V1_1,
    V1_2,
}

pub(super) async fn oneroster(
    name: &'static str,
    version: Version,
    max_limit: u32,
    quirks: sim::oneroster::Quirks,
    expect: Expect,
) -> Case {
    let sim = sim::oneroster::Simulator::start(sim::oneroster::OneRosterSimConfig {
        max_limit,
        quirks,
        ..Default::default()
    })
    .await
    .expect("oneroster simulator");
    let c = sim.config().clone();
    let mut settings = vec![
        ("tenant_id".to_owned(), c.tenant_id.to_string()),
        ("application_id".to_owned(), c.application_id.to_string()),
        ("page_size".to_owned(), "25".to_owned()),
    ];
    let secrets = match version {
        Version::V1_1 => {
            settings.push(("discovery_url".into(), sim.discovery_url()));
            vec![("partner_token", c.partner_token.clone())]
        }
        Version::V1_2 => {
            settings.extend([
                ("oneroster_version".to_owned(), "1.2".to_owned()),
                ("auth".to_owned(), "oauth2".to_owned()),
                ("token_url".to_owned(), sim.token_url()),
                ("base_url".to_owned(), sim.base_url()),
                ("client_id".to_owned(), c.client_id.clone()),
            ]);
            vec![("client_secret", c.client_secret.clone())]
        }
    };
    let pairs: Vec<(&str, &str)> = settings
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let secrets: Vec<(&str, &str)> = secrets.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Case {
        name,
        connector: connector("classlink", &pairs, &secrets),
        sim: Sim::OneRoster(sim),
        settings: None,
        expect,
    }
}

/// The texts the simulators' refusals carry in their bodies.
pub(super) const SOURCE_BODIES: [&str; 5] = [
    "Resource not available",
    "may not read this collection",
    "Not found",
    "Not Found",
    "Insufficient",
];

pub(super) fn refused(path: &str, status: u16) -> Vec<(String, u16)> {
    vec![(path.to_owned(), status)]
}

/// Every mode of every source, with the outcome it must have.
pub(super) async fn cases() -> Vec<Case> {
    use sim::clever::Quirks as CleverQuirks;
    use sim::oneroster::Quirks as OneRosterQuirks;
    use sim::powerschool::{Refusal, Refusals};
    const ALL: u32 = 10_000;
    vec![
        powerschool("ps-plain", None, Refusals::default(), Expect::Whole).await,
        powerschool("ps-page-cap", Some(3), Refusals::default(), Expect::Whole).await,
        powerschool(
            "ps-staff-refused",
            None,
            Refusals {
                staff: Some(Refusal::Forbidden),
                ..Default::default()
            },
            // A section names its teacher by a school's staff record: without the staff
            // lists no enrollment can be read whole.
            Expect::Without(&["staff", "enrollments"]),
        )
        .await,
        powerschool(
            "ps-sections-refused",
            None,
            Refusals {
                sections: Some(Refusal::NotFound),
                ..Default::default()
            },
            Expect::Without(&["classrooms", "enrollments"]),
        )
        .await,
        powerschool(
            "ps-enrollments-refused",
            None,
            Refusals {
                section_enrollments: Some(Refusal::Forbidden),
                ..Default::default()
            },
            Expect::Without(&["enrollments"]),
        )
        .await,
        clever("clever-plain", CleverQuirks::default(), None, Expect::Whole).await,
        clever(
            "clever-page-cap",
            CleverQuirks {
                page_cap: Some(7),
                ..Default::default()
            },
            None,
            Expect::Whole,
        )
        .await,
        clever(
            "clever-sections-refused",
            CleverQuirks {
                refused: refused("/sections", 404),
                ..Default::default()
            },
            None,
            Expect::Without(&["classrooms", "enrollments"]),
        )
        .await,
        clever(
            "clever-other-district",
            CleverQuirks::default(),
            Some("0123456789abcdef01234567"),
            Expect::Fails("not district 0123456789abcdef01234567"),
        )
        .await,
        oneroster(
            "oneroster-1-1-plain",
            Version::V1_1,
            ALL,
            OneRosterQuirks::default(),
            Expect::Whole,
        )
        .await,
        oneroster(
            "oneroster-1-2-strict",
            Version::V1_2,
            ALL,
            OneRosterQuirks::default(),
            Expect::Whole,
        )
        .await,
        oneroster(
            "oneroster-page-cap",
            Version::V1_1,
            7,
            OneRosterQuirks::default(),
            Expect::Whole,
        )
        .await,
        oneroster(
            "oneroster-1-2-page-cap",
            Version::V1_2,
            7,
            OneRosterQuirks::default(),
            Expect::Whole,
        )
        .await,
        oneroster(
            "oneroster-no-headers",
            Version::V1_1,
            7,
            OneRosterQuirks {
                no_total: true,
                no_links: true,
                ..Default::default()
            },
            Expect::Whole,
        )
        .await,
        oneroster(
            "oneroster-ignores-offset",
            Version::V1_1,
            ALL,
            OneRosterQuirks {
                ignore_offset: true,
                no_total: true,
                ..Default::default()
            },
            Expect::Fails("repeats the page before it"),
        )
        .await,
        oneroster(
            // The district's data revision moves once mid-pull: the pull starts again.
            "oneroster-revision-moves",
            Version::V1_1,
            ALL,
            OneRosterQuirks {
                revision_moves_after: Some(3),
                ..Default::default()
            },
            Expect::WholeWarning("the pull started again"),
        )
        .await,
        oneroster(
            "oneroster-classes-refused",
            Version::V1_1,
            ALL,
            OneRosterQuirks {
                refused: refused("/classes", 403),
                ..Default::default()
            },
            Expect::Without(&["classrooms", "enrollments"]),
        )
        .await,
        oneroster(
            "oneroster-enrollments-refused",
            Version::V1_2,
            ALL,
            OneRosterQuirks {
                refused: refused("/enrollments", 404),
                ..Default::default()
            },
            Expect::Without(&["enrollments"]),
        )
        .await,
        oneroster(
            "oneroster-teachers-refused",
            Version::V1_1,
            ALL,
            OneRosterQuirks {
                refused: refused("/teachers", 403),
                ..Default::default()
            },
            Expect::Without(&["staff"]),
        )
        .await,
    ]
}

pub(super) fn truth(sim: &Sim) -> Truth {
    match sim {
        Sim::PowerSchool(sim) => sim.district(|x| {
            let students = x.expected_students();
            Truth {
                students: students.len() as u64,
                staff: x.expected_staff().len() as u64,
                classrooms: x.expected_classrooms().len() as u64,
                student_email: students
                    .iter()
                    .find(|s| !s.org_email.is_empty())
                    .map(|s| (s.source_id.as_str().to_owned(), s.org_email.clone())),
            }
        }),
        Sim::Clever(sim) => sim.district(|x| {
            use sim::clever::Role;
            let shared = |role: Role| -> std::collections::BTreeSet<String> {
                x.users_with_role(role)
                    .filter(|u| x.is_shared(&u.id))
                    .map(|u| u.id.clone())
                    .collect()
            };
            let mut staff = shared(Role::Teacher);
            staff.extend(shared(Role::Staff));
            let student_email = x
                .users_with_role(Role::Student)
                .filter(|u| x.is_shared(&u.id))
                .find_map(|u| u.email.clone().map(|e| (u.id.clone(), e)));
            Truth {
                students: shared(Role::Student).len() as u64,
                staff: staff.len() as u64,
                classrooms: x.sections.iter().filter(|s| x.is_shared(&s.id)).count() as u64,
                student_email,
            }
        }),
        Sim::OneRoster(sim) => sim.district(|x| {
            let student_email = x
                .users()
                .iter()
                .filter(|u| x.active_students().contains(&u.sourced_id))
                .find(|u| !u.email.is_empty())
                .map(|u| (u.sourced_id.clone(), u.email.clone()));
            Truth {
                students: x.active_students().len() as u64,
                staff: x.active_staff().len() as u64,
                classrooms: x.active_classes().len() as u64,
                student_email,
            }
        }),
    }
}
