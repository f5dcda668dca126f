//! Every table and field the connector reads, in one list.
//!
//! The requests take their projections from here and the plugin XML's `access_request`
//! is generated from here, so what a district grants and what the connector asks for
//! cannot drift apart. A column used in a `q` filter is part of its table's list too:
//! PowerSchool refuses a filter on a column the plugin was not granted.
//!
//! Table reads (`/ws/schema/table/{table}`) and PowerQueries need the grants; `/ws/v1`
//! resources do not (reference §1), but the student extension fields are listed as well
//! because their tables are district extensions that a plugin must name to see.

use std::collections::BTreeSet;

/// A table read with its projection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableRead {
    pub table: &'static str,
    pub columns: &'static [&'static str],
}

impl TableRead {
    /// The `projection` parameter.
    pub fn projection(&self) -> String {
        self.columns.join(",")
    }

    /// The path of the table resource.
    pub fn path(&self) -> String {
        format!("/ws/schema/table/{}", self.table)
    }
}

/// The legacy parent access id of each student (rule 1's web access accounts).
pub const STUDENTS: TableRead = TableRead {
    table: "students",
    columns: &["dcid", "web_id"],
};
/// A student's contacts: which person, in which order.
pub const STUDENT_CONTACT_ASSOC: TableRead = TableRead {
    table: "studentcontactassoc",
    columns: &[
        "studentcontactassocid",
        "studentdcid",
        "personid",
        "contactpriorityorder",
    ],
};
/// The relationship of a contact to the student, and whether it is current.
pub const STUDENT_CONTACT_DETAIL: TableRead = TableRead {
    table: "studentcontactdetail",
    columns: &[
        "studentcontactdetailid",
        "studentcontactassocid",
        "relationshiptypecodesetid",
        "isactive",
        "iscustodial",
        "isemergency",
    ],
};
/// The district's decision-making flag (seed 001 rule 4).
pub const U_STUDENT_CONTACT_DETAIL: TableRead = TableRead {
    table: "u_studentcontactdetail",
    columns: &["studentcontactdetailid", "isdecisionmaking"],
};
pub const PERSON: TableRead = TableRead {
    table: "person",
    columns: &["id", "firstname", "lastname"],
};
pub const PERSON_EMAIL_ADDRESS_ASSOC: TableRead = TableRead {
    table: "personemailaddressassoc",
    columns: &["personid", "emailaddressid", "emailaddresspriorityorder"],
};
pub const EMAIL_ADDRESS: TableRead = TableRead {
    table: "emailaddress",
    columns: &["emailaddressid", "emailaddress"],
};
pub const PERSON_PHONE_NUMBER_ASSOC: TableRead = TableRead {
    table: "personphonenumberassoc",
    columns: &[
        "personid",
        "phonenumberid",
        "phonetypecodesetid",
        "phonenumberpriorityorder",
    ],
};
pub const PHONE_NUMBER: TableRead = TableRead {
    table: "phonenumber",
    columns: &["phonenumberid", "phonenumber"],
};
pub const PERSON_ADDRESS_ASSOC: TableRead = TableRead {
    table: "personaddressassoc",
    columns: &[
        "personid",
        "personaddressid",
        "addresstypecodesetid",
        "addresspriorityorder",
    ],
};
pub const PERSON_ADDRESS: TableRead = TableRead {
    table: "personaddress",
    columns: &[
        "personaddressid",
        "street",
        "city",
        "statescodesetid",
        "postalcode",
    ],
};
/// Code sets: relationship, phone, address types and states.
pub const CODESET: TableRead = TableRead {
    table: "codeset",
    columns: &["codesetid", "codetype", "code"],
};
/// Which contact person stands behind a guardian (portal) account.
pub const GUARDIAN_PERSON_ASSOC: TableRead = TableRead {
    table: "guardianpersonassoc",
    columns: &["guardianid", "personid"],
};

/// Every table the connector reads.
pub const TABLE_READS: &[TableRead] = &[
    STUDENTS,
    STUDENT_CONTACT_ASSOC,
    STUDENT_CONTACT_DETAIL,
    U_STUDENT_CONTACT_DETAIL,
    PERSON,
    PERSON_EMAIL_ADDRESS_ASSOC,
    EMAIL_ADDRESS,
    PERSON_PHONE_NUMBER_ASSOC,
    PHONE_NUMBER,
    PERSON_ADDRESS_ASSOC,
    PERSON_ADDRESS,
    CODESET,
    GUARDIAN_PERSON_ASSOC,
];

/// A PowerQuery and the fields it returns to us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowerQuery {
    pub name: &'static str,
    pub fields: &'static [(&'static str, &'static str)],
}

impl PowerQuery {
    pub fn path(&self) -> String {
        format!("/ws/schema/query/{}", self.name)
    }
}

/// Seed 001 fetch 1: the parent-portal accounts with data access to each student.
pub const STUDENT_GUARDIAN_DETAIL: PowerQuery = PowerQuery {
    name: "com.pearson.core.guardian.student_guardian_detail",
    fields: &[
        ("students", "dcid"),
        ("guardian", "guardianid"),
        ("guardian", "firstname"),
        ("guardian", "lastname"),
        ("pcas_account", "username"),
        ("pcas_emailcontact", "emailaddress"),
    ],
};

/// The `/ws/v1` student extensions: the org and personal e-mails (seed 001 rule 5), the
/// independent students' enrollment types, and the legal names (seed 000: a student's
/// first and last name are the legal ones; `Students` holds the preferred ones).
pub const STUDENT_EXTENSIONS: &[TableRead] = &[
    TableRead {
        table: "studentcorefields",
        columns: &[
            "pscore_legal_first_name",
            "pscore_legal_middle_name",
            "pscore_legal_last_name",
        ],
    },
    TableRead {
        table: "u_student",
        columns: &["orgemail", "personalemail"],
    },
    TableRead {
        table: "s_ab_stu_x",
        columns: &["enrlytype1", "enrlytype2", "enrlytype3"],
    },
];

/// The `/ws/v1` student expansions the connector asks for.
pub const STUDENT_EXPANSIONS: &str = "demographics,addresses,phones,school_enrollment,contact_info";

/// The `extensions` parameter of student requests.
pub fn student_extensions() -> String {
    STUDENT_EXTENSIONS
        .iter()
        .map(|t| t.table)
        .collect::<Vec<_>>()
        .join(",")
}

/// Every `table.field` the plugin must be granted, lower-case, sorted.
pub fn access_request() -> BTreeSet<(String, String)> {
    let tables = TABLE_READS.iter().chain(STUDENT_EXTENSIONS).flat_map(|t| {
        t.columns
            .iter()
            .map(|c| (t.table.to_owned(), (*c).to_owned()))
    });
    let query = STUDENT_GUARDIAN_DETAIL
        .fields
        .iter()
        .map(|(t, c)| ((*t).to_owned(), (*c).to_owned()));
    tables.chain(query).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_powerschool_limits_and_are_lower_case() {
        for (table, field) in access_request() {
            assert!(table.len() <= 30 && field.len() <= 30, "{table}.{field}");
            assert_eq!(table, table.to_lowercase());
            assert_eq!(field, field.to_lowercase());
        }
    }

    #[test]
    fn every_table_is_read_once() {
        let names: BTreeSet<_> = TABLE_READS.iter().map(|t| t.table).collect();
        assert_eq!(names.len(), TABLE_READS.len());
    }
}
