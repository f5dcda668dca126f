//! Support reads over gRPC: a student, a guardian, and a student's links with tier,
//! origin and the deciding rule with its facts.

use chrono::{NaiveDate, Utc};
use model::ids::{GuardianId, SourceId, StudentId};
use model::link::{AccessTier, Decision, Link, LinkOrigin};
use model::roster::{AccountStatus, Address, EnrollmentStatus, Gender, Guardian, Student};
use proto::v1 as pb;
use store::{Backend, Synced};
use tonic::Code;

use crate::harness::{powerschool_request, Server};

store::on_both_backends!(
    support_reads_students_guardians_and_links,
    reads_refuse_bad_and_unknown_ids
);

fn student() -> Student {
    Student {
        id: StudentId::new(),
        source_id: SourceId::new("4101"),
        student_number: "200311".into(),
        state_id: "123456789".into(),
        legal_first_name: "Jamie".into(),
        legal_last_name: "Doe".into(),
        middle_name: "Lee".into(),
        birth_date: NaiveDate::from_ymd_opt(2012, 4, 9),
        gender: Gender::Female,
        school_source_id: Some(SourceId::new("17")),
        grade: "7".into(),
        enrollment_status: EnrollmentStatus::Active,
        independent_student: true,
        org_email: "jdoe311@district.example".into(),
        personal_email: "jamie@example.com".into(),
        web_id: "legacy-web-id".into(),
        archived: false,
    }
}

fn guardian(source: &str, email: &str) -> Guardian {
    Guardian {
        id: GuardianId::new(),
        source_id: Some(SourceId::new(source)),
        first_name: "Pat".into(),
        last_name: "Doe".into(),
        email: email.into(),
        home_phone: "403-555-0100".into(),
        mobile_phone: "403-555-0101".into(),
        address: Address {
            street: "12 Elm St".into(),
            city: "Calgary".into(),
            region: "AB".into(),
            postal_code: "T2P 1A1".into(),
        },
        status: AccountStatus::Active,
        sis_connected: true,
        archived: false,
    }
}

async fn with_district(server: &Server) {
    let mut client = server.client().await;
    client
        .create_district(powerschool_request("cbe"))
        .await
        .expect("create district");
}

async fn support_reads_students_guardians_and_links(backend: Backend) {
    let server = Server::start(backend).await;
    with_district(&server).await;
    let cbe = "cbe".parse().expect("id");
    let store = server.store().await;
    let s = student();
    let full = guardian("700512", "pat@example.com");
    let read_only = guardian("700513", "sam@example.com");
    let hashed = |v| Synced {
        value: v,
        source_hash: "h".into(),
    };
    store
        .upsert_students(&cbe, &[hashed(s.clone())])
        .await
        .expect("student");
    store
        .upsert_guardians(
            &cbe,
            &[
                Synced {
                    value: full.clone(),
                    source_hash: "h".into(),
                },
                Synced {
                    value: read_only.clone(),
                    source_hash: "h".into(),
                },
            ],
        )
        .await
        .expect("guardians");
    let now = Utc::now();
    store
        .upsert_links(
            &cbe,
            &[
                Link {
                    student_id: s.id,
                    guardian_id: full.id,
                    origin: LinkOrigin::Sis,
                    tier: AccessTier::Full,
                    decision: Decision::new("ps.link.full")
                        .fact("contact_email", "pat@example.com"),
                    updated_at: now,
                },
                Link {
                    student_id: s.id,
                    guardian_id: read_only.id,
                    origin: LinkOrigin::Sis,
                    tier: AccessTier::ReadOnly,
                    decision: Decision::new("ps.rule5.release_of_information")
                        .fact("contact_email", "sam@example.com")
                        .fact("student_org_email", "jdoe311@district.example"),
                    updated_at: now,
                },
            ],
        )
        .await
        .expect("links");

    let mut client = server.client().await;
    let by_id = client
        .get_student(pb::GetStudentRequest {
            district_id: "cbe".into(),
            student: Some(pb::get_student_request::Student::StudentId(
                s.id.to_string(),
            )),
        })
        .await
        .expect("student")
        .into_inner();
    assert_eq!(by_id.legal_first_name, "Jamie");
    assert_eq!(by_id.state_id, "123456789");
    assert_eq!(by_id.birth_date, "2012-04-09");
    assert_eq!(by_id.gender, "f");
    assert_eq!(by_id.enrollment_status, "active");
    assert!(by_id.independent_student);
    let by_source = client
        .get_student(pb::GetStudentRequest {
            district_id: "cbe".into(),
            student: Some(pb::get_student_request::Student::SourceId("4101".into())),
        })
        .await
        .expect("student by source id")
        .into_inner();
    assert_eq!(by_source, by_id);

    let g = client
        .get_guardian(pb::GetGuardianRequest {
            district_id: "cbe".into(),
            guardian: Some(pb::get_guardian_request::Guardian::GuardianId(
                full.id.to_string(),
            )),
        })
        .await
        .expect("guardian")
        .into_inner();
    assert_eq!(g.email, "pat@example.com");
    assert_eq!(g.mobile_phone, "403-555-0101");
    assert_eq!(g.status, pb::AccountStatus::Active as i32);
    assert_eq!(g.address.expect("address").city, "Calgary");

    let links = client
        .list_student_links(pb::ListStudentLinksRequest {
            district_id: "cbe".into(),
            student_id: s.id.to_string(),
            ..Default::default()
        })
        .await
        .expect("links")
        .into_inner()
        .links;
    assert_eq!(links.len(), 2);
    let sam = links
        .iter()
        .find(|l| l.guardian_email == "sam@example.com")
        .expect("sam's link");
    assert_eq!(sam.tier, pb::AccessTier::ReadOnly as i32);
    assert_eq!(sam.origin, pb::LinkOrigin::Sis as i32);
    assert_eq!(sam.rule_id, "ps.rule5.release_of_information");
    assert_eq!(sam.facts["student_org_email"], "jdoe311@district.example");
    assert_eq!(sam.guardian_name, "Pat Doe");
}

async fn reads_refuse_bad_and_unknown_ids(backend: Backend) {
    let server = Server::start(backend).await;
    with_district(&server).await;
    let mut client = server.client().await;

    let malformed = client
        .get_student(pb::GetStudentRequest {
            district_id: "cbe".into(),
            student: Some(pb::get_student_request::Student::StudentId("42".into())),
        })
        .await
        .expect_err("must be refused");
    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert!(
        malformed.message().contains("student_id"),
        "{}",
        malformed.message()
    );

    let neither = client
        .get_guardian(pb::GetGuardianRequest {
            district_id: "cbe".into(),
            guardian: None,
        })
        .await
        .expect_err("must be refused");
    assert_eq!(neither.code(), Code::InvalidArgument);
    assert!(
        neither.message().contains("guardian_id"),
        "{}",
        neither.message()
    );

    let unknown_student = StudentId::new();
    let missing = client
        .list_student_links(pb::ListStudentLinksRequest {
            district_id: "cbe".into(),
            student_id: unknown_student.to_string(),
            ..Default::default()
        })
        .await
        .expect_err("must be refused");
    assert_eq!(missing.code(), Code::NotFound);
    assert!(
        missing.message().contains(&unknown_student.to_string()),
        "{}",
        missing.message()
    );

    let no_district = client
        .get_student(pb::GetStudentRequest {
            district_id: "atlantis".into(),
            student: Some(pb::get_student_request::Student::StudentId(
                StudentId::new().to_string(),
            )),
        })
        .await
        .expect_err("must be refused");
    assert_eq!(no_district.code(), Code::NotFound);
    assert!(
        no_district.message().contains("district atlantis"),
        "{}",
        no_district.message()
    );

    let bad_district = client
        .get_guardian(pb::GetGuardianRequest {
            district_id: "Bad District".into(),
            guardian: Some(pb::get_guardian_request::Guardian::SourceId("1".into())),
        })
        .await
        .expect_err("must be refused");
    assert_eq!(bad_district.code(), Code::InvalidArgument);
    assert!(
        bad_district.message().contains("district_id"),
        "{}",
        bad_district.message()
    );
}
