//! Students, guardians and links as support reads them.

use model::ids::DistrictId;
use model::link::{AccessTier, Link, LinkOrigin};
use model::roster::{AccountStatus, Guardian, Student};
use proto::v1 as pb;

use super::time;

pub fn student_to_proto(district: &DistrictId, s: &Student) -> pb::Student {
    let Student {
        id,
        source_id,
        student_number,
        state_id,
        legal_first_name,
        legal_last_name,
        middle_name,
        birth_date,
        gender,
        school_source_id,
        grade,
        enrollment_status,
        independent_student,
        org_email,
        personal_email,
        // The legacy parent web access id is an internal PowerSchool credential.
        web_id: _,
        archived,
    } = s;
    pb::Student {
        district_id: district.to_string(),
        student_id: id.to_string(),
        source_id: source_id.to_string(),
        student_number: student_number.clone(),
        state_id: state_id.clone(),
        legal_first_name: legal_first_name.clone(),
        legal_last_name: legal_last_name.clone(),
        middle_name: middle_name.clone(),
        birth_date: birth_date.map(|d| d.to_string()).unwrap_or_default(),
        gender: gender.as_str().to_owned(),
        school_source_id: school_source_id
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_default(),
        grade: grade.clone(),
        enrollment_status: enrollment_status.as_str().to_owned(),
        independent_student: *independent_student,
        org_email: org_email.clone(),
        personal_email: personal_email.clone(),
        archived: *archived,
    }
}

fn status_to_proto(s: AccountStatus) -> pb::AccountStatus {
    match s {
        AccountStatus::Pending => pb::AccountStatus::Pending,
        AccountStatus::Active => pb::AccountStatus::Active,
        AccountStatus::Incomplete => pb::AccountStatus::Incomplete,
    }
}

pub fn guardian_to_proto(district: &DistrictId, g: &Guardian) -> pb::Guardian {
    let Guardian {
        id,
        source_id,
        first_name,
        last_name,
        email,
        home_phone,
        mobile_phone,
        address,
        status,
        sis_connected,
        archived,
    } = g;
    pb::Guardian {
        district_id: district.to_string(),
        guardian_id: id.to_string(),
        source_id: source_id
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_default(),
        first_name: first_name.clone(),
        last_name: last_name.clone(),
        email: email.clone(),
        home_phone: home_phone.clone(),
        mobile_phone: mobile_phone.clone(),
        address: Some(pb::Address {
            street: address.street.clone(),
            city: address.city.clone(),
            region: address.region.clone(),
            postal_code: address.postal_code.clone(),
        }),
        status: status_to_proto(*status) as i32,
        sis_connected: *sis_connected,
        archived: *archived,
    }
}

pub fn tier_to_proto(t: AccessTier) -> pb::AccessTier {
    match t {
        AccessTier::Full => pb::AccessTier::Full,
        AccessTier::Restricted => pb::AccessTier::Restricted,
        AccessTier::ReadOnly => pb::AccessTier::ReadOnly,
    }
}

pub fn origin_to_proto(o: LinkOrigin) -> pb::LinkOrigin {
    match o {
        LinkOrigin::Sis => pb::LinkOrigin::Sis,
        LinkOrigin::Local => pb::LinkOrigin::Local,
        LinkOrigin::Form => pb::LinkOrigin::Form,
        LinkOrigin::Import => pb::LinkOrigin::Import,
    }
}

/// A link with the name and e-mail of its guardian (`None` when the guardian record is
/// missing, which support should see rather than lose the link).
pub fn link_to_proto(l: &Link, guardian: Option<&Guardian>) -> pb::StudentLink {
    let Link {
        student_id,
        guardian_id,
        origin,
        tier,
        decision,
        updated_at,
    } = l;
    pb::StudentLink {
        student_id: student_id.to_string(),
        guardian_id: guardian_id.to_string(),
        guardian_name: guardian
            .map(|g| {
                format!("{} {}", g.first_name, g.last_name)
                    .trim()
                    .to_owned()
            })
            .unwrap_or_default(),
        guardian_email: guardian.map(|g| g.email.clone()).unwrap_or_default(),
        origin: origin_to_proto(*origin) as i32,
        tier: tier_to_proto(*tier) as i32,
        rule_id: decision.rule.to_string(),
        facts: decision.facts.clone(),
        update_time: time(*updated_at),
        explanation: engine::explain(decision),
    }
}

pub fn school_to_proto(s: &model::roster::School) -> pb::School {
    let model::roster::School {
        id,
        source_id,
        school_number,
        name,
        archived,
    } = s;
    pb::School {
        school_id: id.to_string(),
        source_id: source_id.to_string(),
        school_number: school_number.clone(),
        name: name.clone(),
        archived: *archived,
    }
}

pub fn staff_to_proto(district: &DistrictId, s: &model::roster::Staff) -> pb::Staff {
    let model::roster::Staff {
        id,
        source_id,
        first_name,
        last_name,
        email,
        school_source_ids,
        permissions,
        archived,
    } = s;
    pb::Staff {
        district_id: district.to_string(),
        staff_id: id.to_string(),
        source_id: source_id.to_string(),
        first_name: first_name.clone(),
        last_name: last_name.clone(),
        email: email.clone(),
        school_source_ids: school_source_ids.iter().map(|x| x.to_string()).collect(),
        permissions: permissions.iter().map(|p| p.as_str().to_owned()).collect(),
        archived: *archived,
    }
}

pub fn enrollment_to_proto(e: &model::roster::Enrollment) -> pb::Enrollment {
    pb::Enrollment {
        classroom_source_id: e.classroom_source_id.to_string(),
        person_source_id: e.person_source_id.to_string(),
        role: e.role.as_str().to_owned(),
    }
}

pub fn classroom_to_proto(
    district: &DistrictId,
    c: &model::roster::Classroom,
    enrollments: &[model::roster::Enrollment],
) -> pb::Classroom {
    let model::roster::Classroom {
        id,
        source_id,
        school_source_id,
        name,
        archived,
    } = c;
    pb::Classroom {
        district_id: district.to_string(),
        classroom_id: id.to_string(),
        source_id: source_id.to_string(),
        school_source_id: school_source_id.to_string(),
        name: name.clone(),
        archived: *archived,
        enrollments: enrollments.iter().map(enrollment_to_proto).collect(),
    }
}

/// Fields of a source record support does not see: login names (a student's legacy
/// parent web access id, a portal account's username), as the other reads leave them out.
const WITHHELD: [&str; 2] = ["web_id", "username"];

pub fn source_record_to_proto(r: &model::staging::StagedRecord) -> pb::SourceRecord {
    let json = match serde_json::from_str::<serde_json::Value>(&r.payload) {
        Ok(serde_json::Value::Object(mut fields)) => {
            for f in WITHHELD {
                fields.remove(f);
            }
            serde_json::Value::Object(fields).to_string()
        }
        _ => r.payload.clone(),
    };
    pb::SourceRecord {
        kind: r.kind.as_str().to_owned(),
        key: r.key.replace('\u{1f}', "/"),
        content_hash: r.hash.clone(),
        arrival: r.arrival.clone(),
        json,
        refused: r.rejected.clone().unwrap_or_default(),
        duplicate_arrival: r
            .duplicate
            .as_ref()
            .map(|(_, a)| a.clone())
            .unwrap_or_default(),
    }
}
