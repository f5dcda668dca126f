//! The district's staff: every school's staff list, paged to its count, folded into one
//! record per person.
//!
//! `/ws/v1/school/{id}/staff` lists the school's own records of its staff: a teacher at
//! two schools is two records with two `id`s (`SchoolStaff.DCID`, what a section's
//! `staff_id` names) and one `users_dcid` (the person). SPEC §2c: people are people, not
//! per-school rows — a staff record is keyed by `users_dcid` (the record's `id` when a
//! server leaves it out), with the schools of all its records, and a section's teacher
//! is the person its `staff_id` belongs to. Because the records of one person arrive
//! from different schools' pages, every school is read before any staff is sent, so each
//! person is sent once; a district's staff is small beside its students.

use std::collections::{BTreeMap, HashMap};

use connector::{page_keys, ConnectorError, PageWalk, RecordKind, RosterEvent};
use model::ids::SourceId;
use model::roster::Staff;

use super::wire::{self, StaffAnswer, STAFF_EXPANSIONS};
use crate::client::{Limits, PsClient};

/// The district's staff, one record per person, with what sections need to name them.
#[derive(Debug, Default)]
pub(super) struct People {
    by_person: BTreeMap<String, Staff>,
    /// A per-school record's `id` → the person's source id.
    records: HashMap<String, SourceId>,
    /// Records left out as malformed.
    pub rejected: Vec<RosterEvent>,
}

impl People {
    /// Adds one per-school record `record` (its `id`) of the person `staff`: a person
    /// already held gains the record's schools, and any name or e-mail it lacked.
    fn add(&mut self, record: &str, staff: Staff) {
        if !record.is_empty() {
            self.records
                .insert(record.to_owned(), staff.source_id.clone());
        }
        let key = staff.source_id.as_str().to_owned();
        let Some(held) = self.by_person.get_mut(&key) else {
            self.by_person.insert(key, staff);
            return;
        };
        held.school_source_ids.extend(staff.school_source_ids);
        held.school_source_ids.sort();
        held.school_source_ids.dedup();
        for (mine, theirs) in [
            (&mut held.first_name, staff.first_name),
            (&mut held.last_name, staff.last_name),
            (&mut held.email, staff.email),
        ] {
            if mine.is_empty() {
                *mine = theirs;
            }
        }
    }

    /// The person a section's `staff_id` names; the id itself when no school listed a
    /// record with it (a staff record keyed by its own id, or a teacher not listed).
    pub fn teacher(&self, staff_id: &SourceId) -> SourceId {
        self.records
            .get(staff_id.as_str())
            .cloned()
            .unwrap_or_else(|| staff_id.clone())
    }

    /// Every person, in source-id order.
    pub fn staff(&self) -> impl Iterator<Item = &Staff> {
        self.by_person.values()
    }

    /// How many people (and malformed records) the pull declares: each school's list was
    /// proved whole against its count, and the records of one person are one record.
    pub fn declared(&self) -> u64 {
        (self.by_person.len() + self.rejected.len()) as u64
    }
}

/// Every school's staff list, each paged to its count, folded by person.
pub(super) async fn read(
    client: &PsClient,
    limits: &Limits,
    schools: &[String],
) -> Result<People, ConnectorError> {
    let mut people = People::default();
    for school in schools {
        let path = format!("/ws/v1/school/{school}/staff");
        let endpoint = format!("GET {path}");
        let count = client.v1_count(&path, &[]).await?;
        let mut walk = PageWalk::new(endpoint.clone(), limits.staff_page, Some(count));
        while let Some(page) = walk.next_page() {
            let (size, page) = (walk.page_size().to_string(), page.to_string());
            let answer: StaffAnswer = client
                .get(
                    &path,
                    &[
                        ("expansions", STAFF_EXPANSIONS),
                        ("pagesize", &size),
                        ("page", &page),
                    ],
                )
                .await?;
            let rows = answer.staffs.staff.0;
            walk.record(rows.len(), page_keys(&rows))?;
            for w in &rows {
                match wire::staff(w) {
                    Ok(s) => people.add(w.id.as_str(), s),
                    Err(why) => people.rejected.push(wire::rejected(
                        RecordKind::Staff,
                        &endpoint,
                        wire::person(w),
                        why,
                    )),
                }
            }
        }
    }
    Ok(people)
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::ids::StaffId;

    fn record(person: &str, school: &str, email: &str) -> Staff {
        Staff {
            id: StaffId::unassigned(),
            source_id: SourceId::new(person),
            first_name: "Jane".into(),
            last_name: "Doe".into(),
            email: email.into(),
            school_source_ids: vec![SourceId::new(school)],
            permissions: Default::default(),
            archived: false,
        }
    }

    #[test]
    fn a_teacher_at_two_schools_is_one_person_with_both_schools() {
        let mut people = People::default();
        people.add("801", record("52", "4", ""));
        people.add("802", record("52", "3", "jdoe@district.example"));
        people.add("803", record("60", "3", "x@district.example"));
        let staff: Vec<&Staff> = people.staff().collect();
        assert_eq!(staff.len(), 2);
        assert_eq!(
            staff[0].school_source_ids,
            [SourceId::new("3"), SourceId::new("4")]
        );
        assert_eq!(staff[0].email, "jdoe@district.example");
        assert_eq!(people.declared(), 2);
        for record in ["801", "802"] {
            assert_eq!(people.teacher(&SourceId::new(record)).as_str(), "52");
        }
        // A staff_id no school listed stays as it is.
        assert_eq!(people.teacher(&SourceId::new("999")).as_str(), "999");
    }

    #[test]
    fn a_record_without_users_dcid_is_keyed_by_its_own_id() {
        let json = r#"{"staffs":{"staff":[
          {"id":801,"users_dcid":52,"name":{"first_name":"Jane","last_name":"Doe"}},
          {"id":900,"name":{"first_name":"Bo","last_name":"Smith"}}]}}"#;
        let answer: StaffAnswer = serde_json::from_str(json).expect("parses");
        let keys: Vec<&str> = answer.staffs.staff.0.iter().map(wire::person).collect();
        assert_eq!(keys, ["52", "900"]);
    }
}
