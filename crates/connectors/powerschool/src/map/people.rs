//! People: a contact person's name, e-mails, phones and addresses from the `person…`
//! tables and code sets.

use super::*;

/// What the person tables say about one person.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonInfo {
    pub first_name: String,
    pub last_name: String,
    pub emails: Vec<String>,
    pub phones: Vec<Phone>,
    pub mailing_address: Option<Address>,
    pub physical_address: Option<Address>,
}

/// The person tables of one batch.
#[derive(Debug, Default)]
pub struct PersonTables {
    pub person: Vec<Record>,
    pub email_assoc: Vec<Record>,
    pub email: Vec<Record>,
    pub phone_assoc: Vec<Record>,
    pub phone: Vec<Record>,
    pub address_assoc: Vec<Record>,
    pub address: Vec<Record>,
}

/// Joins the person tables into one [`PersonInfo`] per person id.
pub fn people(
    t: &PersonTables,
    codes: &Codes,
    warnings: &mut Warnings,
) -> HashMap<String, PersonInfo> {
    use fields::*;
    let mut out: HashMap<String, PersonInfo> = t
        .person
        .iter()
        .map(|r| {
            let p = PERSON.table;
            (
                r.get(p, "id").to_owned(),
                PersonInfo {
                    first_name: r.get(p, "firstname").to_owned(),
                    last_name: r.get(p, "lastname").to_owned(),
                    ..PersonInfo::default()
                },
            )
        })
        .collect();

    let emails: HashMap<&str, &str> = t
        .email
        .iter()
        .map(|r| {
            (
                r.get(EMAIL_ADDRESS.table, "emailaddressid"),
                r.get(EMAIL_ADDRESS.table, "emailaddress"),
            )
        })
        .collect();
    let mut email_assoc: Vec<&Record> = t.email_assoc.iter().collect();
    let ea = PERSON_EMAIL_ADDRESS_ASSOC.table;
    email_assoc.sort_by(|a, b| {
        numeric(a.get(ea, "emailaddresspriorityorder"))
            .cmp(&numeric(b.get(ea, "emailaddresspriorityorder")))
    });
    for r in email_assoc {
        let (Some(person), Some(email)) = (
            out.get_mut(r.get(ea, "personid")),
            emails.get(r.get(ea, "emailaddressid")),
        ) else {
            continue;
        };
        if !email.is_empty() {
            person.emails.push((*email).to_owned());
        }
    }

    let numbers: HashMap<&str, &str> = t
        .phone
        .iter()
        .map(|r| {
            (
                r.get(PHONE_NUMBER.table, "phonenumberid"),
                r.get(PHONE_NUMBER.table, "phonenumber"),
            )
        })
        .collect();
    let pa = PERSON_PHONE_NUMBER_ASSOC.table;
    let mut phone_assoc: Vec<&Record> = t.phone_assoc.iter().collect();
    phone_assoc.sort_by(|a, b| {
        numeric(a.get(pa, "phonenumberpriorityorder"))
            .cmp(&numeric(b.get(pa, "phonenumberpriorityorder")))
    });
    for r in phone_assoc {
        let person_id = r.get(pa, "personid");
        let (Some(person), Some(number)) = (
            out.get_mut(person_id),
            numbers.get(r.get(pa, "phonenumberid")),
        ) else {
            continue;
        };
        let code = codes.code(r.get(pa, "phonetypecodesetid"));
        let kind = PhoneType::parse(code);
        if kind.is_other() {
            warnings.push(
                &PERSON_PHONE_NUMBER_ASSOC.path(),
                person_id,
                format!("unknown phone type {code:?} kept as other"),
            );
        }
        if !number.is_empty() {
            person.phones.push(Phone {
                number: (*number).to_owned(),
                kind,
            });
        }
    }

    let addresses: HashMap<&str, &Record> = t
        .address
        .iter()
        .map(|r| (r.get(PERSON_ADDRESS.table, "personaddressid"), r))
        .collect();
    let aa = PERSON_ADDRESS_ASSOC.table;
    let mut address_assoc: Vec<&Record> = t.address_assoc.iter().collect();
    address_assoc.sort_by(|a, b| {
        numeric(a.get(aa, "addresspriorityorder")).cmp(&numeric(b.get(aa, "addresspriorityorder")))
    });
    for r in address_assoc {
        let person_id = r.get(aa, "personid");
        let (Some(person), Some(a)) = (
            out.get_mut(person_id),
            addresses.get(r.get(aa, "personaddressid")),
        ) else {
            continue;
        };
        let pa = PERSON_ADDRESS.table;
        let address = Address {
            street: a.get(pa, "street").to_owned(),
            city: a.get(pa, "city").to_owned(),
            region: codes.code(a.get(pa, "statescodesetid")).to_owned(),
            postal_code: a.get(pa, "postalcode").to_owned(),
        };
        let code = codes.code(r.get(aa, "addresstypecodesetid"));
        let slot = match code.to_ascii_lowercase().as_str() {
            "mailing" => &mut person.mailing_address,
            "home" | "physical" | "residence" => &mut person.physical_address,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(address);
        }
    }
    out
}
