//! The `guardians.csv` file format (SPEC §4, seeds 002 and 004): its header and what
//! makes a row good, one record at a time (`records` splits the file; the
//! checks across rows are `check`'s).
//!
//! One row per guardian–student pair, a header row naming the columns (any order, names
//! compared without case or surrounding spaces):
//!
//! | column | required value | meaning |
//! |---|---|---|
//! | `student_id` | yes | the student's id as the district shows it (its student id choice) |
//! | `first_name`, `last_name` | one of them | the guardian's names |
//! | `email` | no | the guardian's e-mail |
//! | `sms_phone` | no | the SMS field: the mobile, the login and where SMS and calls go |
//! | `home_phone` | no | the phone field: home, never used for login or messages |
//! | `relationship` | yes | `parent`, `guardian`, `grandparent`, `relative`, … |
//! | `contact_type` | no | `guardian`, `emergency`, `family`, … (empty: other) |
//!
//! UTF-8 with or without a byte-order mark, fields quoted or not (`"Ruiz, Ana"`, `""`
//! for a quote inside quotes), lines ending in CRLF or LF. Every column must be present;
//! a column the format does not know is refused (a misspelt header would otherwise drop
//! a value silently).
//!
//! The same guardian across rows is the same e-mail (case aside) or, without one, the
//! same names and SMS phone (or home phone); its rows must agree on its names and phones.
//! Every problem of a file is reported at once (the first hundred listed), with its line
//! (1 is the header) and column; a file with any problem is refused as a whole.

use std::collections::HashMap;

use model::limits::echo;
use model::roster::{ContactType, Relationship};

use super::problems::{read_error, refused, Problems};
use super::records::{Record, Records, MAX_RECORD_BYTES};
use super::upload::{ReadAt, Upload};
use crate::EngineError;

/// The columns, in the template's order.
pub const COLUMNS: [&str; 8] = [
    "student_id",
    "first_name",
    "last_name",
    "email",
    "sms_phone",
    "home_phone",
    "relationship",
    "contact_type",
];

/// The template `rostersync guardians-csv --template` prints.
pub const TEMPLATE: &str =
    "student_id,first_name,last_name,email,sms_phone,home_phone,relationship,contact_type\r\n\
200311,Ana,Ruiz,ana.ruiz@example.net,+1 555 010 2233,555-010-4455,mother,guardian\r\n\
200311,\"O'Neil, Jr.\",Sam,,555-010-9000,,grandparent,emergency\r\n";

/// A value's longest allowed length.
const MAX_VALUE: usize = 200;

/// One problem of a file: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file's line (1: the header).
    pub line: u64,
    /// The column it is about, or empty for the whole row.
    pub column: String,
    pub reason: String,
}

impl Problem {
    fn new(line: u64, column: &str, reason: impl Into<String>) -> Self {
        Problem {
            line,
            column: column.to_owned(),
            reason: reason.into(),
        }
    }

    /// `line 4, column email` (or `line 4`).
    pub fn place(&self) -> String {
        if self.column.is_empty() {
            format!("line {}", self.line)
        } else {
            format!("line {}, column {}", self.line, self.column)
        }
    }
}

/// One row of a good file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: u64,
    pub student_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub sms_phone: String,
    pub home_phone: String,
    pub relationship: Relationship,
    pub contact_type: ContactType,
    /// The guardian this row is about: the same key is the same guardian.
    pub guardian_key: String,
}

/// The header: where each column is.
#[derive(Debug, Clone)]
pub struct Header {
    /// Each of [`COLUMNS`]' place in a row.
    index: [usize; COLUMNS.len()],
    /// Values a row has.
    len: usize,
}

/// What one record of the file is.
#[derive(Debug)]
pub enum Line {
    Row(Box<Row>),
    /// Nothing but spaces: passed over.
    Blank,
    /// Its problems were reported.
    Refused,
}

impl Header {
    /// Reads the header record: where each column is, or every problem with it.
    pub fn read(record: &Record<'_>) -> Result<Header, Vec<Problem>> {
        if record.oversized {
            return Err(vec![Problem::new(
                1,
                "",
                format!("cannot read the header: longer than {MAX_RECORD_BYTES} bytes"),
            )]);
        }
        let mut problems = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        let names: Vec<String> = record
            .values()
            .map(|h| String::from_utf8_lossy(h).trim().to_ascii_lowercase())
            .collect();
        for (i, name) in names.iter().enumerate() {
            match COLUMNS.iter().find(|c| **c == name.as_str()) {
                Some(c) if index.contains_key(c) => {
                    problems.push(Problem::new(1, c, "the column appears twice"))
                }
                Some(c) => {
                    index.insert(c, i);
                }
                None => problems.push(Problem::new(
                    1,
                    &cut(name),
                    format!("unknown column; the columns are {}", COLUMNS.join(", ")),
                )),
            }
        }
        for c in COLUMNS {
            if !index.contains_key(c) {
                problems.push(Problem::new(1, c, "missing column"));
            }
        }
        if !problems.is_empty() {
            problems.sort_by(|a, b| (a.line, &a.column).cmp(&(b.line, &b.column)));
            return Err(problems);
        }
        Ok(Header {
            index: COLUMNS.map(|c| index[c]),
            len: names.len(),
        })
    }

    /// Reads one record after the header: a row, a blank line, or a record whose every
    /// problem went to `problem`.
    pub fn row(&self, record: &Record<'_>, problem: &mut impl FnMut(Problem)) -> Line {
        let line = record.line;
        if !record.oversized
            && record
                .values()
                .all(|f| f.iter().all(u8::is_ascii_whitespace))
        {
            return Line::Blank;
        }
        if let Some(reason) = self.shape_problem(record) {
            problem(Problem::new(line, "", reason));
            return Line::Refused;
        }
        let mut refused = false;
        let values: [String; 8] = std::array::from_fn(|i| {
            let (value, bad) = field(record, self.index[i]);
            if let Some(reason) = bad {
                refused = true;
                problem(Problem::new(line, COLUMNS[i], reason));
            }
            value
        });
        let [student_id, first_name, last_name, email, sms_phone, home_phone, relationship, contact_type] =
            values;
        let found = value_problems(
            &student_id,
            (&first_name, &last_name),
            &email,
            (&sms_phone, &home_phone),
            &relationship,
        );
        for (column, reason) in found {
            refused = true;
            problem(Problem::new(line, column, reason));
        }
        if refused {
            return Line::Refused;
        }
        let guardian_key = guardian_key(&first_name, &last_name, &email, &sms_phone, &home_phone);
        let contact_type = match contact_type.as_str() {
            "" => ContactType::OtherContactType,
            raw => ContactType::parse(raw),
        };
        Line::Row(Box::new(Row {
            line,
            student_id,
            first_name,
            last_name,
            email,
            sms_phone,
            home_phone,
            relationship: Relationship::parse(&relationship),
            contact_type,
            guardian_key,
        }))
    }

    /// Why a record cannot be a row at all: its number of fields, or its size.
    fn shape_problem(&self, record: &Record<'_>) -> Option<String> {
        if record.len != self.len {
            return Some(format!(
                "{} fields where the header has {} (a stray quote or a missing comma?)",
                record.len, self.len
            ));
        }
        record.oversized.then(|| {
            format!("the row is longer than {MAX_RECORD_BYTES} bytes (a quote left open?)")
        })
    }
}

/// One field's text, trimmed, and why it is refused, if it is.
fn field(record: &Record<'_>, at: usize) -> (String, Option<String>) {
    let raw = record.get(at).unwrap_or_default();
    let reason = match std::str::from_utf8(raw) {
        Err(_) => Some("not UTF-8 text".to_owned()),
        Ok(_) if record.stray_quote(at) => {
            Some("a stray quote: quote the whole value, and double a quote inside it".into())
        }
        Ok(s) if s.trim().chars().count() > MAX_VALUE => {
            Some(format!("longer than {MAX_VALUE} characters"))
        }
        Ok(s) if s.trim().chars().any(char::is_control) => Some("holds a control character".into()),
        Ok(_) => None,
    };
    let text = std::str::from_utf8(raw)
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    (text, reason)
}

/// What is wrong with a row's values, by column.
fn value_problems(
    student_id: &str,
    (first_name, last_name): (&str, &str),
    email: &str,
    (sms_phone, home_phone): (&str, &str),
    relationship: &str,
) -> Vec<(&'static str, String)> {
    let mut found = Vec::new();
    if student_id.is_empty() {
        found.push(("student_id", "missing: the student's id".into()));
    }
    if first_name.is_empty() && last_name.is_empty() {
        found.push((
            "first_name",
            "the guardian has neither a first nor a last name".into(),
        ));
    }
    if !email.is_empty() && !is_email(email) {
        found.push(("email", format!("{} is not an e-mail address", echo(email))));
    }
    for (column, phone) in [("sms_phone", sms_phone), ("home_phone", home_phone)] {
        if !phone.is_empty() && !is_phone(phone) {
            found.push((column, format!("{} is not a phone number", echo(phone))));
        }
    }
    if relationship.is_empty() {
        found.push((
            "relationship",
            "missing: parent, guardian, grandparent, …".into(),
        ));
    }
    found
}

/// Who a row's guardian is across rows: the e-mail, or without one the names and the SMS
/// (else home) phone's digits.
fn guardian_key(first: &str, last: &str, email: &str, sms: &str, home: &str) -> String {
    if !email.is_empty() {
        return email.to_lowercase();
    }
    let phone = if sms.is_empty() { home } else { sms };
    format!(
        "{}|{}|{}",
        first.to_lowercase(),
        last.to_lowercase(),
        digits(phone)
    )
}

/// Where a row is: its line and byte offset (a file is at most 64 MiB: both fit).
pub type Seen = (u32, u32);

fn seen(line: u64, offset: u64) -> Seen {
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(offset).unwrap_or(u32::MAX),
    )
}

/// The rows of a file, in order, blank lines passed over.
#[derive(Debug)]
pub(super) struct Rows<'a> {
    records: Records<ReadAt<'a>>,
    pub header: Header,
}

impl<'a> Rows<'a> {
    /// Opens a file: its header read, or every problem with it.
    pub fn open(upload: &'a Upload) -> Result<Self, EngineError> {
        let mut records = Records::new(upload.reader_at(0), 0);
        let header = match records.next_record().map_err(read_error)? {
            None => return Err(refused(1, "the file is empty")),
            Some(h) => Header::read(&h),
        };
        let header = header.map_err(|found| {
            let mut problems = Problems::default();
            found.into_iter().for_each(|p| problems.push(p));
            match problems.into_result() {
                Err(e) => e,
                Ok(()) => refused(1, "cannot read the header"),
            }
        })?;
        Ok(Rows { records, header })
    }

    /// The next line that is not blank — a row, or a record refused (its problems go to
    /// `problem`) — and where it is.
    pub fn next_line(
        &mut self,
        problem: &mut impl FnMut(Problem),
    ) -> Result<Option<(Line, Seen)>, EngineError> {
        while let Some(record) = self.records.next_record().map_err(read_error)? {
            match self.header.row(&record, problem) {
                Line::Blank => continue,
                line => return Ok(Some((line, seen(record.line, record.offset)))),
            }
        }
        Ok(None)
    }

    /// The next row of a file that was checked (a record that is not a row is passed
    /// over).
    pub fn next_row(&mut self) -> Result<Option<Row>, EngineError> {
        while let Some((line, _)) = self.next_line(&mut |_| {})? {
            if let Line::Row(row) = line {
                return Ok(Some(*row));
            }
        }
        Ok(None)
    }
}

impl Row {
    /// What one guardian's rows must agree on: names and phones (by their digits).
    pub fn person(&self) -> [(&'static str, String); 4] {
        [
            ("first_name", self.first_name.clone()),
            ("last_name", self.last_name.clone()),
            ("sms_phone", digits(&self.sms_phone)),
            ("home_phone", digits(&self.home_phone)),
        ]
    }
}

/// A value cut to a readable length for a message.
fn cut(s: &str) -> String {
    model::limits::cut(s, 60)
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// One `@`, a local part, and a domain with a dot and no empty label; no spaces.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && domain.split('.').all(|l| !l.is_empty())
        && !s.chars().any(|c| c.is_whitespace() || c == ',' || c == ';')
}

/// Seven to fifteen digits, written with spaces, dashes, dots, brackets and a leading `+`.
pub fn is_phone(s: &str) -> bool {
    let n = digits(s).len();
    (7..=15).contains(&n)
        && s.chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || " -.()".contains(c) || (c == '+' && i == 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_phones_are_checked_plainly() {
        assert!(is_email("a.b+c@school.example.org"));
        assert!(!is_email("a b@x.org") && !is_email("a@x") && !is_email("a@x..org"));
        assert!(is_phone("+1 (555) 010-2233") && is_phone("555.010.2233"));
        assert!(!is_phone("12") && !is_phone("555-010-2233 ext") && !is_phone("1+5550102233"));
    }
}
