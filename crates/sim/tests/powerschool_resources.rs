//! The PowerSchool simulator's resources over real HTTP: `/ws/v1` shapes and quirks,
//! table access, the guardian PowerQuery, and live edits, checked against the ground
//! truth.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{as_list, default_sim, start};
use rostersync_sim::powerschool::SimConfig;
use serde_json::{json, Value};

const STUDENT_Q: &str = "school_enrollment.enroll_status_code==(-1,0)";
const EXPANSIONS: &str = "demographics,addresses,phones,school_enrollment,contact_info";
#[tokio::test]
async fn metadata_schools_and_counts() {
    let (sim, client) = default_sim().await;
    let meta = client.get("/ws/v1/metadata").await.json();
    assert_eq!(meta["metadata"]["student_max_page_size"], 100);
    assert_eq!(meta["metadata"]["schema_table_query_max_page_size"], 100);
    let schools = client.get("/ws/v1/district/school").await.json();
    let list = schools["schools"]["school"]
        .as_array()
        .expect("four schools")
        .clone();
    let expected = sim.district(|d| d.expected_schools());
    assert_eq!(list.len(), expected.len());
    for (got, want) in list.iter().zip(&expected) {
        assert_eq!(got["id"].to_string(), want.source_id);
        assert_eq!(got["school_number"].to_string(), want.school_number);
        assert_eq!(got["name"], want.name.as_str());
    }
    let count = client.get("/ws/v1/district/school/count").await.json();
    assert_eq!(count, json!({ "resource": { "count": 4 } }));
    let one = client
        .get("/ws/v1/district/school?pagesize=1&page=2")
        .await
        .json();
    assert!(
        one["schools"]["school"].is_object(),
        "one school is a bare object"
    );
    let past = client
        .get("/ws/v1/district/school?page=3&pagesize=2")
        .await
        .json();
    assert!(past["schools"].get("school").is_none());
    sim.shutdown().await;
}

#[tokio::test]
async fn students_page_by_school_with_the_documented_quirks() {
    let (sim, client) = default_sim().await;
    let school = sim.district(|d| d.schools[0].dcid);
    let want: Vec<u64> = sim.district(|d| {
        let mut ids: Vec<u64> = d
            .students
            .iter()
            .filter(|s| s.school_dcid == school && s.is_current())
            .map(|s| s.dcid)
            .collect();
        ids.sort_unstable();
        ids
    });
    assert!(want.len() > 7, "the school spans several pages of seven");
    let base = format!("/ws/v1/school/{school}/student?q={STUDENT_Q}&expansions={EXPANSIONS}&extensions=s_ab_stu_x,u_student");
    let mut got = Vec::new();
    for page in 1.. {
        let answer = client
            .get(&format!("{base}&page={page}&pagesize=7"))
            .await
            .json();
        let envelope = &answer["students"];
        assert!(envelope["@expansions"]
            .as_str()
            .is_some_and(|e| e.contains("demographics, addresses")));
        let Some(list) = envelope.get("student") else {
            break;
        };
        let items = as_list(list);
        if items.len() == 1 {
            assert!(list.is_object(), "a page of one student is a bare object");
        }
        got.extend(items.iter().map(|s| s["id"].as_u64().expect("numeric id")));
    }
    assert_eq!(got, want);

    let count = client
        .get(&format!(
            "/ws/v1/school/{school}/student/count?q={STUDENT_Q}"
        ))
        .await
        .json();
    assert_eq!(count["resource"]["count"], want.len());
    let all = client
        .get(&format!("/ws/v1/school/{school}/student/count"))
        .await
        .json();
    assert!(all["resource"]["count"].as_u64().expect("count") >= want.len() as u64);

    let bad = client
        .get(&format!("/ws/v1/school/{school}/student?q=grade==5"))
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.json()["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("Invalid field specified")));
    let letters = client
        .get(&format!(
            "/ws/v1/school/{school}/student/count?q=school_enrollment.enroll_status==(A,P)"
        ))
        .await
        .json();
    assert_eq!(letters["resource"]["count"], want.len());
    sim.shutdown().await;
}

#[tokio::test]
async fn page_size_is_capped_at_the_maximum() {
    let config = SimConfig {
        max_page_size: 5,
        ..SimConfig::default()
    };
    let (sim, client) = start(config).await;
    let page = client
        .get("/ws/v1/district/student?pagesize=500")
        .await
        .json();
    assert_eq!(as_list(&page["students"]["student"]).len(), 5);
    let table = client
        .get("/ws/schema/table/person?projection=id&pagesize=500")
        .await
        .json();
    assert_eq!(table["record"].as_array().map(Vec::len), Some(5));
    sim.shutdown().await;
}

/// Reads every current student over `/ws/v1` the way the reference describes and checks
/// it against the ground truth.
#[tokio::test]
async fn student_json_carries_what_the_ground_truth_says() {
    let (sim, client) = start(SimConfig {
        students: 120,
        seed: 9,
        ..SimConfig::default()
    })
    .await;
    let schools: Vec<u64> = sim.district(|d| d.schools.iter().map(|s| s.dcid).collect());
    let mut seen = BTreeMap::new();
    for school in schools {
        let answer = client
            .get(&format!(
                "/ws/v1/school/{school}/student?q={STUDENT_Q}&expansions={EXPANSIONS}&extensions=s_ab_stu_x,u_student&pagesize=100"
            ))
            .await
            .json();
        for s in as_list(&answer["students"]["student"]) {
            seen.insert(s["id"].as_u64().expect("id"), s);
        }
    }
    let expected = sim.district(|d| d.expected_students());
    assert_eq!(seen.len(), expected.len());
    for want in &expected {
        let s = &seen[&want.source_id.as_str().parse::<u64>().expect("id")];
        assert_eq!(s["local_id"].to_string(), want.student_number);
        assert_eq!(s["state_province_id"], want.state_id.as_str());
        // `name` holds the names the student goes by; the legal ones (the ground truth)
        // are those, or the `studentcorefields` extension's where it has them.
        let dcid: u64 = want.source_id.as_str().parse().expect("id");
        let (first, middle, last) = sim.district(|d| {
            let row = d.student(dcid).expect("student");
            (
                row.first_name.clone(),
                row.middle_name.clone(),
                row.last_name.clone(),
            )
        });
        assert_eq!(s["name"]["first_name"], first.as_str());
        assert_eq!(s["name"]["last_name"], last.as_str());
        assert_eq!(
            s["name"]
                .get("middle_name")
                .and_then(Value::as_str)
                .unwrap_or(""),
            middle
        );
        let legal = sim.district(|d| {
            let row = d.student(dcid).expect("student");
            (
                row.legal_first_name().to_owned(),
                row.legal_last_name().to_owned(),
            )
        });
        assert_eq!(
            (want.legal_first_name.clone(), want.legal_last_name.clone()),
            legal
        );
        let enrollment = &s["school_enrollment"];
        assert_eq!(enrollment["grade_level"].to_string(), want.grade);
        assert_eq!(
            Some(enrollment["school_id"].to_string()),
            want.school_source_id.as_ref().map(|s| s.to_string())
        );
        let birth = want.birth_date.map(|d| d.format("%Y-%m-%d").to_string());
        assert_eq!(
            s["demographics"]["birth_date"].as_str().map(str::to_owned),
            birth
        );
        let mut fields = BTreeMap::new();
        if let Some(data) = s.get("_extension_data") {
            for table in as_list(&data["_table_extension"]) {
                assert_eq!(table["recordFound"], false);
                for field in as_list(&table["_field"]) {
                    let value = field["value"].as_str().expect("string value").to_owned();
                    fields.insert(field["name"].as_str().expect("name").to_owned(), value);
                }
            }
        }
        let independent = ["enrlytype1", "enrlytype2", "enrlytype3"]
            .iter()
            .any(|f| fields.get(*f).map(String::as_str) == Some("121"));
        assert_eq!(independent, want.independent_student);
        assert_eq!(
            fields.get("orgemail").cloned().unwrap_or_default(),
            want.org_email
        );
        assert_eq!(
            fields.get("personalemail").cloned().unwrap_or_default(),
            want.personal_email
        );
    }

    let single_field = sim.district(|d| {
        d.students
            .iter()
            .find(|s| s.s_ab_stu_x.fields().len() == 1 && s.is_current())
            .map(|s| s.dcid)
            .expect("a student with one enrollment type")
    });
    let one = client
        .get(&format!(
            "/ws/v1/student/{single_field}?extensions=s_ab_stu_x"
        ))
        .await
        .json();
    let table = &one["student"]["_extension_data"]["_table_extension"];
    assert!(table.is_object(), "one extension table is a bare object");
    assert!(table["_field"].is_object(), "one field is a bare object");

    let graduated = sim.district(|d| d.cases().graduated_student.clone());
    let g = client
        .get(&format!(
            "/ws/v1/student/{graduated}?expansions=school_enrollment"
        ))
        .await
        .json();
    assert_eq!(g["student"]["school_enrollment"]["enroll_status_code"], 3);
    assert_eq!(g["student"]["school_enrollment"]["enroll_status"], "G");
    assert_eq!(client.get("/ws/v1/student/1").await.status, 404);
    let bare = client
        .get(&format!("/ws/v1/student/{graduated}"))
        .await
        .json();
    assert!(bare["student"].get("_extension_data").is_none());
    assert!(bare["student"].get("demographics").is_none());
    sim.shutdown().await;
}

#[tokio::test]
async fn tables_filter_by_value_lists_and_project_columns() {
    let (sim, client) = default_sim().await;
    let (students, rows) = sim.district(|d| {
        let students: Vec<u64> = d.students.iter().take(3).map(|s| s.dcid).collect();
        let rows: BTreeSet<(u64, u64, u64)> = d
            .student_contact_assocs
            .iter()
            .filter(|a| students.contains(&a.student_dcid))
            .map(|a| (a.id, a.student_dcid, a.person_id))
            .collect();
        (students, rows)
    });
    let list = students
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let answer = client
        .get(&format!(
            "/ws/schema/table/studentcontactassoc?projection=studentcontactassocid,studentdcid,personid&q=studentdcid==({list})"
        ))
        .await
        .json();
    assert_eq!(answer["name"], "studentcontactassoc");
    let records = answer["record"].as_array().expect("records");
    let mut got = BTreeSet::new();
    let mut previous = 0;
    for r in records {
        let key = r["id"].as_u64().expect("numeric key");
        assert!(key > previous, "rows in key order");
        previous = key;
        assert_eq!(r["name"], "studentcontactassoc");
        let cells = r["tables"]["studentcontactassoc"]
            .as_object()
            .expect("cells");
        assert_eq!(cells.len(), 3, "projection only: {cells:?}");
        let n = |c: &str| {
            cells[c]
                .as_str()
                .expect("string value")
                .parse::<u64>()
                .expect("number")
        };
        got.insert((n("studentcontactassocid"), n("studentdcid"), n("personid")));
    }
    assert_eq!(got, rows);

    let count = client
        .get(&format!(
            "/ws/schema/table/studentcontactassoc/count?q=studentdcid==({list})"
        ))
        .await
        .json();
    assert_eq!(count, json!({ "count": rows.len() }));
    let empty = client
        .get("/ws/schema/table/person?projection=*&q=id==1")
        .await
        .json();
    assert_eq!(empty, json!({ "name": "person", "record": [] }));

    let c = sim.district(|d| d.cases().clone());
    let details = client
        .get(&format!("/ws/schema/table/studentcontactassoc?projection=studentcontactassocid&q=studentdcid=={};personid=={}", c.not_decision_making_student, c.not_decision_making_contact))
        .await
        .json();
    let assoc = details["record"][0]["id"].as_u64().expect("assoc");
    let detail = client
        .get(&format!("/ws/schema/table/studentcontactdetail?projection=*&q=studentcontactassocid=={assoc};isactive==1"))
        .await
        .json();
    let detail_id = detail["record"][0]["id"].as_u64().expect("detail");
    let flag = client
        .get(&format!("/ws/schema/table/u_studentcontactdetail?projection=*&q=studentcontactdetailid=={detail_id}"))
        .await
        .json();
    assert_eq!(
        flag["record"][0]["tables"]["u_studentcontactdetail"]["isdecisionmaking"],
        "0"
    );

    assert_eq!(
        client
            .get("/ws/schema/table/nope?projection=*")
            .await
            .status,
        404
    );
    let teachers = client.get("/ws/schema/table/teachers?projection=*").await;
    assert_eq!(teachers.status, 405);
    assert_eq!(
        teachers.json()["message"],
        "GET, POST and PUT are not allowed on table"
    );
    let bad = client
        .get("/ws/schema/table/person?projection=id,shoesize")
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(
        bad.json()["message"],
        "Invalid field specified: shoesize is not valid column for table: Person"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn student_guardian_detail_returns_enabled_accounts_with_data_access() {
    let (sim, client) = default_sim().await;
    const QUERY: &str = "/ws/schema/query/com.pearson.core.guardian.student_guardian_detail";
    let all = client
        .post(&format!("{QUERY}?pagesize=0"), "{}")
        .await
        .json();
    assert_eq!(all["name"], "Students");
    assert_eq!(all["@extensions"], "");
    let records = all["record"].as_array().expect("records").clone();
    let count = client.post(&format!("{QUERY}/count"), "{}").await.json();
    assert_eq!(count["count"], records.len());

    let mut pairs: BTreeSet<(u64, u64)> = BTreeSet::new();
    let mut previous = (0, 0);
    for r in &records {
        let student = r["id"].as_u64().expect("student id");
        let tables = &r["tables"];
        assert_eq!(tables["students"]["dcid"], student.to_string());
        let guardian: u64 = tables["guardian"]["guardianid"]
            .as_str()
            .expect("string")
            .parse()
            .expect("id");
        assert!(
            (student, guardian) > previous,
            "ordered by student then guardian"
        );
        previous = (student, guardian);
        pairs.insert((student, guardian));
    }
    let (current, truth): (BTreeSet<u64>, BTreeSet<(u64, u64)>) = sim.district(|d| {
        let current = d
            .expected_students()
            .iter()
            .map(|s| s.source_id.as_str().parse().expect("id"))
            .collect();
        let truth = d
            .expected_guardian_accounts()
            .iter()
            .flat_map(|a| {
                let g: u64 = a.source_id.as_str().parse().expect("id");
                a.student_source_ids
                    .iter()
                    .map(move |s| (s.as_str().parse::<u64>().expect("id"), g))
            })
            .collect();
        (current, truth)
    });
    let of_current: BTreeSet<(u64, u64)> = pairs
        .iter()
        .copied()
        .filter(|(s, _)| current.contains(s))
        .collect();
    assert_eq!(of_current, truth);

    let c = sim.district(|d| d.cases().clone());
    let disabled: u64 = c.disabled_guardian.parse().expect("id");
    assert!(pairs.iter().all(|(_, g)| *g != disabled));
    let by_student = client
        .post(
            QUERY,
            &format!(
                "{{\"students_dcid\":[\"{}\",{}]}}",
                c.sibling_students[0], c.sibling_students[1]
            ),
        )
        .await
        .json();
    let guardians: Vec<String> = as_list(&by_student["record"])
        .iter()
        .map(|r| {
            r["tables"]["guardian"]["guardianid"]
                .as_str()
                .expect("id")
                .to_owned()
        })
        .collect();
    assert_eq!(
        guardians
            .iter()
            .filter(|g| **g == c.sibling_guardian)
            .count(),
        2
    );
    assert_eq!(
        guardians
            .iter()
            .filter(|g| **g == c.no_data_access_guardian)
            .count(),
        1
    );
    let by_guardian = client
        .post(
            &format!("{QUERY}/count"),
            &format!("{{\"guardian_id\":[{}]}}", c.sibling_guardian),
        )
        .await
        .json();
    assert_eq!(by_guardian["count"], 2);
    let paged = client
        .post(&format!("{QUERY}?pagesize=5&page=2"), "{}")
        .await
        .json();
    assert_eq!(
        paged["record"].as_array().map(Vec::len),
        Some(5.min(records.len().saturating_sub(5)))
    );
    assert_eq!(
        client
            .post("/ws/schema/query/com.example.nope", "{}")
            .await
            .status,
        404
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn live_edits_show_in_every_endpoint() {
    let (sim, client) = default_sim().await;
    let dcid = sim.district(|d| d.expected_students()[0].source_id.as_str().to_owned());
    let before = client
        .get(&format!(
            "/ws/schema/table/students?projection=grade_level&q=dcid=={dcid}"
        ))
        .await
        .json();
    let grade: i32 = before["record"][0]["tables"]["students"]["grade_level"]
        .as_str()
        .expect("grade")
        .parse()
        .expect("number");
    let new_grade = if grade == 12 { 11 } else { grade + 1 };
    sim.edit(|d| {
        if let Some(s) = d.student_mut(dcid.parse().expect("id")) {
            s.grade_level = new_grade;
        }
    });
    let after = client
        .get(&format!(
            "/ws/schema/table/students?projection=grade_level&q=dcid=={dcid}"
        ))
        .await
        .json();
    assert_eq!(
        after["record"][0]["tables"]["students"]["grade_level"],
        new_grade.to_string()
    );
    let v1 = client
        .get(&format!(
            "/ws/v1/student/{dcid}?expansions=school_enrollment"
        ))
        .await
        .json();
    assert_eq!(v1["student"]["school_enrollment"]["grade_level"], new_grade);

    let total = sim.district(|d| d.students.len());
    sim.edit(|d| d.students.truncate(total / 2));
    let count = client.get("/ws/v1/district/student/count").await.json();
    assert_eq!(count["resource"]["count"], total / 2);
    let truth = sim.district(|d| d.expected_guardian_accounts());
    let remaining: BTreeSet<String> =
        sim.district(|d| d.students.iter().map(|s| s.dcid.to_string()).collect());
    assert!(truth
        .iter()
        .flat_map(|a| &a.student_source_ids)
        .all(|s| remaining.contains(s.as_str())));
    let records = client
        .post(
            "/ws/schema/query/com.pearson.core.guardian.student_guardian_detail?pagesize=0",
            "{}",
        )
        .await
        .json();
    assert!(as_list(&records["record"])
        .iter()
        .all(|r| remaining.contains(&r["id"].to_string())));
    sim.shutdown().await;
}
