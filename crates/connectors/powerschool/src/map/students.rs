//! Students: `/ws/v1` student records with their expansions and extensions → source
//! students (legal names, seed 000's fields, the independent-student flag).

use super::*;

/// The enrollment type that marks an independent student (seed 001 fetch 3).
pub const INDEPENDENT_ENROLLMENT_TYPE: &str = "121";

/// A `/ws/v1` student with its legacy web access id. `None` (with a warning) when the
/// record lacks what a student must have: an id, a name and an enrollment status.
pub fn student(
    w: &wire::Student,
    web_id: &str,
    endpoint: &str,
    warnings: &mut Warnings,
) -> Option<SourceStudent> {
    let id = w.id.as_str();
    let name = w.name.0.clone().unwrap_or_default();
    let enrollment = w.school_enrollment.0.clone().unwrap_or_default();
    let demographics = w.demographics.0.clone().unwrap_or_default();
    let reject = |warnings: &mut Warnings, why: String| {
        warnings.reject(RecordKind::Student, endpoint, id, why);
        None
    };
    if id.is_empty() {
        return reject(warnings, "the student has no id".into());
    }
    let Some(status) = enrollment_status(&enrollment) else {
        return reject(
            warnings,
            "the student has no readable enrollment status".into(),
        );
    };
    let birth = demographics.birth_date.as_str();
    let birth_date = match birth {
        "" => None,
        raw => match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => return reject(warnings, format!("birth date {raw:?} is not YYYY-MM-DD")),
        },
    };
    let gender = Gender::parse(demographics.gender.as_str());
    if gender.is_other() {
        warnings.push(
            endpoint,
            id,
            format!("unknown gender {:?} kept as other", gender.as_str()),
        );
    }
    let ext = w.extension_data.0.clone().unwrap_or_default();
    let independent_student = (1..=3).any(|i| {
        ext.value("s_ab_stu_x", &format!("enrlytype{i}")) == Some(INDEPENDENT_ENROLLMENT_TYPE)
    });
    let school = enrollment.school_id.as_str();
    // The legal name, falling back to the `Students` (preferred) name where blank, as
    // PowerSchool's own pages do.
    let legal = |field: &str, preferred: &wire::Text| {
        ext.value("studentcorefields", field)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| preferred.as_str())
            .to_owned()
    };
    let mapped = SourceStudent {
        source_id: SourceId::new(id),
        student_number: w.local_id.as_str().to_owned(),
        sis_id: String::new(),
        state_id: w.state_province_id.as_str().to_owned(),
        legal_first_name: legal("pscore_legal_first_name", &name.first_name),
        legal_last_name: legal("pscore_legal_last_name", &name.last_name),
        middle_name: legal("pscore_legal_middle_name", &name.middle_name),
        birth_date,
        gender,
        school_source_id: (!school.is_empty()).then(|| SourceId::new(school)),
        grade: enrollment.grade_level.as_str().to_owned(),
        enrollment_status: status,
        independent_student,
        org_email: ext
            .value("u_student", "orgemail")
            .unwrap_or_default()
            .to_owned(),
        personal_email: ext
            .value("u_student", "personalemail")
            .unwrap_or_default()
            .to_owned(),
        web_id: web_id.to_owned(),
        email: w
            .contact_info
            .0
            .as_ref()
            .map(|c| c.email.as_str().to_owned())
            .unwrap_or_default(),
        home_phone: w
            .phones
            .0
            .as_ref()
            .and_then(|p| p.main.0.as_ref())
            .map(|n| n.number.as_str().to_owned())
            .unwrap_or_default(),
        mailing_address: w.addresses.0.as_ref().and_then(|a| postal(&a.mailing)),
        physical_address: w.addresses.0.as_ref().and_then(|a| postal(&a.physical)),
    };
    match model::validate::student(&mapped, chrono::Utc::now().date_naive()) {
        Ok(()) => Some(mapped),
        Err(why) => reject(warnings, why),
    }
}

fn postal(a: &wire::Expansion<wire::PostalAddress>) -> Option<Address> {
    let a = a.0.as_ref()?;
    let address = Address {
        street: a.street.as_str().to_owned(),
        city: a.city.as_str().to_owned(),
        region: a.state_province.as_str().to_owned(),
        postal_code: a.postal_code.as_str().to_owned(),
    };
    (!address.is_empty()).then_some(address)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::StudentsAnswer;

    const STUDENT: &str = r#"{"students":{"student":{"id":4101,"local_id":200311,"student_username":"jdoe311",
        "state_province_id":"123456789","name":{"first_name":"Jamie","middle_name":"Lee","last_name":"Doe"},
        "demographics":{"gender":"F","birth_date":"2012-04-09"},
        "addresses":{"physical":{"street":"12 Elm St","city":"Calgary","state_province":"AB","postal_code":"T2P 1A1"}},
        "phones":{"main":{"number":"403-555-0199"}},"contact_info":{"email":"jdoe311@district.example"},
        "school_enrollment":{"enroll_status":"P","enroll_status_code":-1,"grade_level":7,"school_id":17,"school_number":1201},
        "_extension_data":{"_table_extension":[
          {"name":"u_student","recordFound":false,"_field":[{"name":"orgemail","type":"String","value":"jdoe311@district.example"},
            {"name":"personalemail","type":"String","value":"jamie@example.com"}]},
          {"name":"s_ab_stu_x","recordFound":false,"_field":{"name":"enrlytype3","type":"String","value":"121"}}]}}}}"#;

    #[test]
    fn a_student_maps_every_field_of_seed_000() {
        let answer: StudentsAnswer = serde_json::from_str(STUDENT).expect("parses");
        let mut w = Warnings::default();
        let s = student(&answer.students.student.0[0], "pdoe", "GET /x", &mut w).expect("mapped");
        assert!(w.0.is_empty(), "{:?}", w.0);
        assert_eq!(s.source_id.as_str(), "4101");
        assert_eq!(s.student_number, "200311");
        assert_eq!(s.state_id, "123456789");
        assert_eq!(
            (
                s.legal_first_name.as_str(),
                s.middle_name.as_str(),
                s.legal_last_name.as_str()
            ),
            ("Jamie", "Lee", "Doe")
        );
        assert_eq!(s.birth_date, NaiveDate::from_ymd_opt(2012, 4, 9));
        assert_eq!(s.gender, Gender::Female);
        assert_eq!(s.school_source_id, Some(SourceId::new("17")));
        assert_eq!(s.grade, "7");
        assert_eq!(s.enrollment_status, EnrollmentStatus::PreRegistered);
        assert!(s.independent_student, "enrlytype3 = 121");
        assert_eq!(s.org_email, "jdoe311@district.example");
        assert_eq!(s.personal_email, "jamie@example.com");
        assert_eq!(s.web_id, "pdoe");
        assert_eq!(s.email, "jdoe311@district.example");
        assert_eq!(s.home_phone, "403-555-0199");
        assert_eq!(s.mailing_address, None);
        assert_eq!(
            s.physical_address
                .as_ref()
                .map(|a| (a.city.as_str(), a.region.as_str())),
            Some(("Calgary", "AB"))
        );
    }

    #[test]
    fn legal_names_come_from_studentcorefields_and_fall_back_where_blank() {
        let json = STUDENT.replace(
            r#"{"name":"s_ab_stu_x""#,
            r#"{"name":"studentcorefields","recordFound":false,"_field":[
                {"name":"pscore_legal_first_name","type":"String","value":"Jameson"},
                {"name":"pscore_legal_middle_name","type":"String","value":"  "},
                {"name":"pscore_legal_last_name","type":"String","value":"Doe-Okafor"}]},
              {"name":"s_ab_stu_x""#,
        );
        assert_ne!(json, STUDENT, "the extension was added");
        let answer: StudentsAnswer = serde_json::from_str(&json).expect("parses");
        let mut w = Warnings::default();
        let s = student(&answer.students.student.0[0], "", "GET /x", &mut w).expect("mapped");
        assert_eq!(
            (
                s.legal_first_name.as_str(),
                s.middle_name.as_str(),
                s.legal_last_name.as_str()
            ),
            ("Jameson", "Lee", "Doe-Okafor"),
            "legal first and last; a blank legal middle name falls back to Students'"
        );
    }

    #[test]
    fn odd_student_values_warn_and_malformed_ones_are_rejected_by_themselves() {
        let json = r#"{"students":{"student":[
            {"id":1,"name":{"first_name":"A","last_name":"B"},"demographics":{"gender":"Q"},
             "school_enrollment":{"enroll_status":"A"}},
            {"id":2,"name":{"first_name":"C","last_name":"D"},"school_enrollment":""},
            {"id":3,"name":{"first_name":"E","last_name":"F"},"demographics":{"birth_date":"09/04/2012"},
             "school_enrollment":{"enroll_status":"A"}},
            {"id":4,"name":{"first_name":"","last_name":""},"school_enrollment":{"enroll_status":"A"}},
            {"id":5,"name":{"first_name":"G","last_name":"H"},"demographics":{"birth_date":"3000-01-01"},
             "school_enrollment":{"enroll_status":"A"}}]}}"#;
        let answer: StudentsAnswer = serde_json::from_str(json).expect("parses");
        let mut w = Warnings::default();
        let mapped: Vec<_> = answer
            .students
            .student
            .0
            .iter()
            .filter_map(|s| student(s, "", "GET /x", &mut w))
            .collect();
        assert_eq!(mapped.len(), 1);
        assert_eq!(
            mapped[0].enrollment_status,
            EnrollmentStatus::Active,
            "letter fallback"
        );
        assert_eq!(mapped[0].gender, Gender::Other("Q".into()));
        assert_eq!(w.0.len(), 1, "one warning, the unknown gender: {:?}", w.0);
        let rejected: Vec<_> =
            w.1.iter()
                .map(|r| (r.record.as_str(), r.reason.as_str()))
                .collect();
        assert_eq!(rejected.len(), 4, "{rejected:?}");
        assert!(w
            .1
            .iter()
            .all(|r| r.endpoint == "GET /x" && r.kind == RecordKind::Student));
        assert!(rejected[0].0 == "2" && rejected[0].1.contains("enrollment status"));
        assert!(rejected[1].0 == "3" && rejected[1].1.contains("09/04/2012"));
        assert!(rejected[2].0 == "4" && rejected[2].1.contains("neither"));
        assert!(rejected[3].0 == "5" && rejected[3].1.contains("3000-01-01"));
        assert!(!mapped[0].independent_student);
    }
}
