//! Whether a source account is a guardian we hold under another id: the same person by
//! name and e-mail, or by name and phone when neither has an e-mail.

use model::roster::Guardian;
use model::source::GuardianAccount;

fn same_text(a: &str, b: &str) -> bool {
    !a.trim().is_empty() && a.trim().eq_ignore_ascii_case(b.trim())
}

fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

/// The same name, and the same e-mail — or, with no e-mail on either side, a phone in
/// common.
pub fn same_person(held: &Guardian, account: &GuardianAccount) -> bool {
    let name = same_text(&held.first_name, &account.first_name)
        && same_text(&held.last_name, &account.last_name);
    if !name {
        return false;
    }
    if !held.email.trim().is_empty() || !account.email.trim().is_empty() {
        return same_text(&held.email, &account.email);
    }
    let ours: Vec<String> = [&held.home_phone, &held.mobile_phone]
        .into_iter()
        .map(|n| digits(n))
        .filter(|n| n.len() >= 7)
        .collect();
    account
        .phones
        .iter()
        .map(|p| p.number.as_str())
        .chain([account.home_phone.as_str(), account.mobile_phone.as_str()])
        .map(digits)
        .any(|n| n.len() >= 7 && ours.contains(&n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::ids::{GuardianId, SourceId};
    use model::roster::{AccountStatus, Address, Phone, PhoneType};

    fn held(email: &str, mobile: &str) -> Guardian {
        Guardian {
            id: GuardianId::new(),
            source_id: Some(SourceId::new("old")),
            first_name: "Ana".into(),
            last_name: "Ruiz".into(),
            email: email.into(),
            home_phone: String::new(),
            mobile_phone: mobile.into(),
            address: Address::default(),
            status: AccountStatus::Active,
            sis_connected: true,
            archived: false,
        }
    }

    fn account(first: &str, email: &str, phone: &str) -> GuardianAccount {
        GuardianAccount {
            source_id: SourceId::new("new"),
            first_name: first.into(),
            last_name: "Ruiz".into(),
            email: email.into(),
            username: String::new(),
            home_phone: String::new(),
            mobile_phone: String::new(),
            mailing_address: None,
            physical_address: None,
            contact_source_ids: vec![],
            student_source_ids: vec![],
            phones: vec![Phone {
                number: phone.into(),
                kind: PhoneType::Cell,
            }],
        }
    }

    #[test]
    fn the_same_name_and_email_is_the_same_person() {
        let g = held("ana@example.net", "");
        assert!(same_person(&g, &account("ana", "ANA@example.net", "")));
        assert!(!same_person(&g, &account("Ana", "other@example.net", "")));
        assert!(!same_person(&g, &account("Anna", "ana@example.net", "")));
    }

    #[test]
    fn without_email_a_phone_in_common_decides() {
        let g = held("", "(555) 010-2233");
        assert!(same_person(&g, &account("Ana", "", "555-010-2233")));
        assert!(!same_person(&g, &account("Ana", "", "555-010-9999")));
        assert!(!same_person(&held("", ""), &account("Ana", "", "")));
    }
}
