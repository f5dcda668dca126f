//! Guardian accounts: the `student_guardian_detail` PowerQuery rows grouped by account,
//! with the contact person behind each.

use super::*;

/// The guardian accounts of `student_guardian_detail` rows, one per guardian with the
/// students it was listed for; its contact persons come from `guardianpersonassoc`, and
/// its phones and addresses from the first of them.
pub fn guardian_accounts(
    rows: &[Record],
    guardian_person: &[Record],
    people: &HashMap<String, PersonInfo>,
) -> Vec<GuardianAccount> {
    let gpa = fields::GUARDIAN_PERSON_ASSOC.table;
    let mut persons: HashMap<&str, Vec<&str>> = HashMap::new();
    for r in guardian_person {
        persons
            .entry(r.get(gpa, "guardianid"))
            .or_default()
            .push(r.get(gpa, "personid"));
    }
    let mut order: Vec<&str> = Vec::new();
    let mut students: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut first: HashMap<&str, &Record> = HashMap::new();
    for r in rows {
        let gid = r.get("guardian", "guardianid");
        if gid.is_empty() {
            continue;
        }
        if !first.contains_key(gid) {
            first.insert(gid, r);
            order.push(gid);
        }
        students
            .entry(gid)
            .or_default()
            .push(r.get("students", "dcid"));
    }
    order
        .into_iter()
        .map(|gid| {
            let r = first[gid];
            let mut contact_ids: Vec<&str> = persons.get(gid).cloned().unwrap_or_default();
            contact_ids.sort_by_key(|p| numeric(p));
            contact_ids.dedup();
            let mut student_ids: Vec<&str> = students.remove(gid).unwrap_or_default();
            student_ids.retain(|s| !s.is_empty());
            student_ids.sort_by_key(|s| numeric(s));
            student_ids.dedup();
            let person = contact_ids.first().and_then(|p| people.get(*p));
            let phone = |kind: PhoneType| {
                person
                    .and_then(|p| p.phones.iter().find(|ph| ph.kind == kind))
                    .map(|ph| ph.number.clone())
                    .unwrap_or_default()
            };
            GuardianAccount {
                phones: Vec::new(),
                source_id: SourceId::new(gid),
                first_name: r.get("guardian", "firstname").to_owned(),
                last_name: r.get("guardian", "lastname").to_owned(),
                email: r.get("pcas_emailcontact", "emailaddress").to_owned(),
                username: r.get("pcas_account", "username").to_owned(),
                home_phone: phone(PhoneType::Home),
                mobile_phone: phone(PhoneType::Cell),
                mailing_address: person.and_then(|p| p.mailing_address.clone()),
                physical_address: person.and_then(|p| p.physical_address.clone()),
                contact_source_ids: contact_ids.into_iter().map(SourceId::new).collect(),
                student_source_ids: student_ids.into_iter().map(SourceId::new).collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn guardian_accounts_group_rows_and_take_the_person_behind_them() {
        let rows = records(
            r#"{"name":"Students","record":[
            {"id":4101,"name":"Students","tables":{"students":{"dcid":"4101"},"guardian":{"guardianid":"700","firstname":"Pat","lastname":"Doe"},
              "pcas_account":{"username":"pdoe"},"pcas_emailcontact":{"emailaddress":"pat@example.com"}}},
            {"id":4102,"name":"Students","tables":{"students":{"dcid":"4102"},"guardian":{"guardianid":"700","firstname":"Pat","lastname":"Doe"},
              "pcas_account":{"username":"pdoe"},"pcas_emailcontact":{"emailaddress":"pat@example.com"}}},
            {"id":4101,"name":"Students","tables":{"students":{"dcid":"4101"},"guardian":{"guardianid":"701","firstname":"Web","lastname":"Only"},
              "pcas_account":{"username":"4101web"},"pcas_emailcontact":{"emailaddress":""}}}]}"#,
        );
        let gpa = table(
            "guardianpersonassoc",
            &[&[("guardianid", "700"), ("personid", "501")]],
        );
        let people = people(&person_tables(), &codes(), &mut Warnings::default());
        let accounts = guardian_accounts(&rows, &gpa, &people);
        assert_eq!(accounts.len(), 2);
        let pat = &accounts[0];
        assert_eq!(pat.source_id.as_str(), "700");
        assert_eq!(
            (pat.email.as_str(), pat.username.as_str()),
            ("pat@example.com", "pdoe")
        );
        assert_eq!(
            pat.student_source_ids,
            vec![SourceId::new("4101"), SourceId::new("4102")]
        );
        assert_eq!(pat.contact_source_ids, vec![SourceId::new("501")]);
        assert_eq!(
            (pat.home_phone.as_str(), pat.mobile_phone.as_str()),
            ("403-555-0101", "403-555-0102")
        );
        assert_eq!(
            pat.preferred_address().map(|a| a.street.as_str()),
            Some("12 Elm St")
        );
        let web = &accounts[1];
        assert!(
            web.contact_source_ids.is_empty(),
            "no contact person behind it"
        );
        assert_eq!(web.home_phone, "");
    }
}
