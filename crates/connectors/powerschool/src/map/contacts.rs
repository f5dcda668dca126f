//! Contacts: a student's current contacts from `studentcontactassoc` and
//! `studentcontactdetail`, with relationship, custody and the decision-making flag.

use super::*;

/// The contact tables of one batch.
#[derive(Debug, Default)]
pub struct ContactTables {
    pub assoc: Vec<Record>,
    pub detail: Vec<Record>,
    pub u_detail: Vec<Record>,
}

/// The current contacts of the batch's students: one per `studentcontactassoc` whose
/// first active `studentcontactdetail` exists. Decision-making is true only when the
/// detail's `u_studentcontactdetail.isdecisionmaking` is 1 (seed 001 rule 4: a missing
/// row is not 1).
pub fn contacts(
    t: &ContactTables,
    people: &HashMap<String, PersonInfo>,
    codes: &Codes,
    warnings: &mut Warnings,
) -> Vec<Contact> {
    use fields::*;
    let (a, d, u) = (
        STUDENT_CONTACT_ASSOC.table,
        STUDENT_CONTACT_DETAIL.table,
        U_STUDENT_CONTACT_DETAIL.table,
    );
    let mut active: BTreeMap<&str, &Record> = BTreeMap::new();
    let mut details: Vec<&Record> = t
        .detail
        .iter()
        .filter(|r| r.get(d, "isactive") == "1")
        .collect();
    details.sort_by(|x, y| {
        numeric(x.get(d, "studentcontactdetailid"))
            .cmp(&numeric(y.get(d, "studentcontactdetailid")))
    });
    for r in details {
        active.entry(r.get(d, "studentcontactassocid")).or_insert(r);
    }
    let decision: HashMap<&str, bool> = t
        .u_detail
        .iter()
        .map(|r| {
            (
                r.get(u, "studentcontactdetailid"),
                r.get(u, "isdecisionmaking") == "1",
            )
        })
        .collect();
    let mut assoc: Vec<&Record> = t.assoc.iter().collect();
    assoc.sort_by(|x, y| {
        (
            numeric(x.get(a, "studentdcid")),
            numeric(x.get(a, "contactpriorityorder")),
        )
            .cmp(&(
                numeric(y.get(a, "studentdcid")),
                numeric(y.get(a, "contactpriorityorder")),
            ))
    });
    let mut out = Vec::with_capacity(assoc.len());
    for r in assoc {
        let assoc_id = r.get(a, "studentcontactassocid");
        let Some(detail) = active.get(assoc_id) else {
            continue;
        };
        let person_id = r.get(a, "personid");
        let Some(person) = people.get(person_id) else {
            warnings.push(
                &STUDENT_CONTACT_ASSOC.path(),
                assoc_id,
                format!("contact person {person_id} not found; contact skipped"),
            );
            continue;
        };
        let code = codes.code(detail.get(d, "relationshiptypecodesetid"));
        let relationship = Relationship::parse(code);
        if relationship.is_other() {
            warnings.push(
                &STUDENT_CONTACT_DETAIL.path(),
                detail.get(d, "studentcontactdetailid"),
                format!("unknown relationship {code:?} kept as other"),
            );
        }
        let contact_type = if detail.get(d, "iscustodial") == "1" {
            ContactType::Guardian
        } else if detail.get(d, "isemergency") == "1" {
            ContactType::Emergency
        } else {
            ContactType::parse("contact")
        };
        out.push(Contact {
            source_id: SourceId::new(person_id),
            student_source_id: SourceId::new(r.get(a, "studentdcid")),
            first_name: person.first_name.clone(),
            last_name: person.last_name.clone(),
            emails: person.emails.clone(),
            relationship,
            contact_type,
            phones: person.phones.clone(),
            decision_making: Some(
                decision
                    .get(detail.get(d, "studentcontactdetailid"))
                    .copied()
                    .unwrap_or(false),
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn contacts_join_people_and_read_decision_making() {
        let codes = codes();
        let mut w = Warnings::default();
        let people = people(&person_tables(), &codes, &mut w);
        let pat = &people["501"];
        assert_eq!(
            pat.emails,
            vec!["pat@example.com", "pat.work@example.com"],
            "by priority"
        );
        assert_eq!(
            pat.phones[0],
            Phone {
                number: "403-555-0101".into(),
                kind: PhoneType::Home
            }
        );
        assert_eq!(pat.phones[1].kind, PhoneType::Cell);
        assert_eq!(
            pat.physical_address.as_ref().map(|a| a.region.as_str()),
            Some("AB")
        );
        assert!(pat.mailing_address.is_none());
        assert_eq!(
            people["502"].phones[0].kind,
            PhoneType::Other("Pager".into())
        );
        assert_eq!(w.0.len(), 1, "unknown phone type warned: {:?}", w.0);

        let tables = ContactTables {
            assoc: table(
                "studentcontactassoc",
                &[
                    &[
                        ("studentcontactassocid", "90"),
                        ("studentdcid", "4101"),
                        ("personid", "501"),
                        ("contactpriorityorder", "1"),
                    ],
                    &[
                        ("studentcontactassocid", "91"),
                        ("studentdcid", "4101"),
                        ("personid", "502"),
                        ("contactpriorityorder", "2"),
                    ],
                    &[
                        ("studentcontactassocid", "92"),
                        ("studentdcid", "4102"),
                        ("personid", "501"),
                        ("contactpriorityorder", "1"),
                    ],
                ],
            ),
            detail: table(
                "studentcontactdetail",
                &[
                    &[
                        ("studentcontactdetailid", "300"),
                        ("studentcontactassocid", "90"),
                        ("relationshiptypecodesetid", "1"),
                        ("isactive", "1"),
                        ("iscustodial", "1"),
                        ("isemergency", "0"),
                    ],
                    &[
                        ("studentcontactdetailid", "301"),
                        ("studentcontactassocid", "91"),
                        ("relationshiptypecodesetid", "2"),
                        ("isactive", "1"),
                        ("iscustodial", "0"),
                        ("isemergency", "1"),
                    ],
                    &[
                        ("studentcontactdetailid", "302"),
                        ("studentcontactassocid", "92"),
                        ("relationshiptypecodesetid", "1"),
                        ("isactive", "0"),
                        ("iscustodial", "1"),
                        ("isemergency", "0"),
                    ],
                ],
            ),
            u_detail: table(
                "u_studentcontactdetail",
                &[&[("studentcontactdetailid", "300"), ("isdecisionmaking", "1")]],
            ),
        };
        let mut w = Warnings::default();
        let contacts = contacts(&tables, &people, &codes, &mut w);
        assert_eq!(
            contacts.len(),
            2,
            "the inactive detail of 4102 is not a current contact"
        );
        let (pat, sam) = (&contacts[0], &contacts[1]);
        assert_eq!(
            (pat.source_id.as_str(), pat.student_source_id.as_str()),
            ("501", "4101")
        );
        assert_eq!(pat.relationship, Relationship::Mother);
        assert_eq!(pat.contact_type, ContactType::Guardian);
        assert_eq!(pat.decision_making, Some(true));
        assert_eq!(
            sam.relationship,
            Relationship::Other("Probation Officer".into())
        );
        assert_eq!(sam.contact_type, ContactType::Emergency);
        assert_eq!(
            sam.decision_making,
            Some(false),
            "no u_studentcontactdetail row is not 1"
        );
        assert_eq!(w.0.len(), 1, "unknown relationship warned: {:?}", w.0);
    }
}
