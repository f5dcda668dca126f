//! The `guardians.csv` file format (SPEC §4, seeds 002 and 004) and its reader.
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
//! A file is read whole and every problem is reported at once, with its line (1 is the
//! header) and column; a file with any problem is refused as a whole.

use std::collections::{BTreeMap, HashMap};

use model::limits::echo;
use model::roster::{ContactType, Relationship};

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

/// Reads a file whole: its rows, or every problem in it.
pub fn read(content: &[u8]) -> Result<Vec<Row>, Vec<Problem>> {
    let content = content.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(content);
    // A spreadsheet saved as "Unicode text" is UTF-16: one problem saying so, not one
    // "unknown column" per garbled header name.
    let first_line = content.split(|b| *b == b'\n').next().unwrap_or_default();
    if content.starts_with(b"\xFF\xFE")
        || content.starts_with(b"\xFE\xFF")
        || first_line.contains(&0)
    {
        return Err(vec![Problem::new(
            1,
            "",
            "the file is not UTF-8 text (it looks like UTF-16): save it as CSV UTF-8",
        )]);
    }
    let mut problems = Vec::new();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(content);
    let mut records = reader.byte_records();
    let header = match records.next() {
        None => return Err(vec![Problem::new(1, "", "the file is empty")]),
        Some(Err(e)) => {
            return Err(vec![Problem::new(
                1,
                "",
                format!("cannot read the header: {e}"),
            )])
        }
        Some(Ok(h)) => h,
    };
    let mut index: HashMap<&str, usize> = HashMap::new();
    let names: Vec<String> = header
        .iter()
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
                &model::limits::cut(name, 60),
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
    let strays = stray_quotes(content);
    // The csv reader counts CRLF lines oddly: lines are counted here, from byte offsets.
    let newlines: Vec<u64> = content
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i as u64)
        .collect();
    let line_at = |byte: u64| {
        // A record's offset may point at the end of the line before it.
        let mut at = byte as usize;
        while matches!(content.get(at), Some(b'\r' | b'\n')) {
            at += 1;
        }
        newlines.partition_point(|&n| n < at as u64) as u64 + 1
    };
    let mut rows = Vec::new();
    // (student, guardian) → the line that listed it first.
    let mut pairs: HashMap<(String, String), u64> = HashMap::new();
    // guardian → (line, names and phones) as first seen.
    let mut people: BTreeMap<String, (u64, [String; 4])> = BTreeMap::new();
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| line_at(p.byte()));
                problems.push(Problem::new(line, "", format!("cannot read the row: {e}")));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| line_at(p.byte()));
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        if record.len() != names.len() {
            problems.push(Problem::new(
                line,
                "",
                format!(
                    "{} fields where the header has {} (a stray quote or a missing comma?)",
                    record.len(),
                    names.len()
                ),
            ));
            continue;
        }
        let mut value = |column: &str| -> String {
            let raw = &record[index[column]];
            match std::str::from_utf8(raw) {
                Ok(s) => {
                    let s = s.trim();
                    if strays.contains(&(line, index[column])) {
                        problems.push(Problem::new(
                            line,
                            column,
                            "a stray quote: quote the whole value, and double a quote inside it",
                        ));
                    } else if s.chars().count() > MAX_VALUE {
                        problems.push(Problem::new(
                            line,
                            column,
                            format!("longer than {MAX_VALUE} characters"),
                        ));
                    } else if s.chars().any(char::is_control) {
                        problems.push(Problem::new(line, column, "holds a control character"));
                    }
                    s.to_owned()
                }
                Err(_) => {
                    problems.push(Problem::new(line, column, "not UTF-8 text"));
                    String::new()
                }
            }
        };
        let row_values = COLUMNS.map(&mut value);
        let [student_id, first_name, last_name, email, sms_phone, home_phone, relationship, contact_type] =
            row_values;
        let before = problems.len();
        if student_id.is_empty() {
            problems.push(Problem::new(
                line,
                "student_id",
                "missing: the student's id",
            ));
        }
        if first_name.is_empty() && last_name.is_empty() {
            problems.push(Problem::new(
                line,
                "first_name",
                "the guardian has neither a first nor a last name",
            ));
        }
        if !email.is_empty() && !is_email(&email) {
            problems.push(Problem::new(
                line,
                "email",
                format!("{} is not an e-mail address", echo(&email)),
            ));
        }
        for (column, phone) in [("sms_phone", &sms_phone), ("home_phone", &home_phone)] {
            if !phone.is_empty() && !is_phone(phone) {
                problems.push(Problem::new(
                    line,
                    column,
                    format!("{} is not a phone number", echo(phone)),
                ));
            }
        }
        if relationship.is_empty() {
            problems.push(Problem::new(
                line,
                "relationship",
                "missing: parent, guardian, grandparent, …",
            ));
        }
        if problems.len() > before {
            continue;
        }
        let guardian_key = if email.is_empty() {
            let phone = if sms_phone.is_empty() {
                &home_phone
            } else {
                &sms_phone
            };
            format!(
                "{}|{}|{}",
                first_name.to_lowercase(),
                last_name.to_lowercase(),
                digits(phone)
            )
        } else {
            email.to_lowercase()
        };
        let pair = (student_id.clone(), guardian_key.clone());
        if let Some(first) = pairs.get(&pair) {
            problems.push(Problem::new(
                line,
                "",
                format!(
                    "duplicate row: line {first} lists the same guardian for student {student_id}"
                ),
            ));
            continue;
        }
        pairs.insert(pair, line);
        let person = [
            first_name.clone(),
            last_name.clone(),
            digits(&sms_phone),
            digits(&home_phone),
        ];
        match people.get(&guardian_key) {
            Some((first, seen)) if seen != &person => {
                let what = ["first_name", "last_name", "sms_phone", "home_phone"];
                let column = what
                    .iter()
                    .zip(seen.iter().zip(person.iter()))
                    .find(|(_, (a, b))| a != b)
                    .map_or("", |(c, _)| c);
                problems.push(Problem::new(
                    line,
                    column,
                    format!("the same guardian differs from line {first}: one guardian, one set of names and phones"),
                ));
                continue;
            }
            Some(_) => {}
            None => {
                people.insert(guardian_key.clone(), (line, person));
            }
        }
        let contact_type = match contact_type.as_str() {
            "" => ContactType::OtherContactType,
            raw => ContactType::parse(raw),
        };
        rows.push(Row {
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
        });
    }
    if rows.is_empty() && problems.is_empty() {
        problems.push(Problem::new(2, "", "the file holds no rows"));
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        problems.sort_by(|a, b| (a.line, &a.column).cmp(&(b.line, &b.column)));
        Err(problems)
    }
}

/// Where a quote stands that RFC 4180 does not allow — inside an unquoted value, or
/// after a quoted value's closing quote — as (the line its row starts on, the field's
/// index). A CSV reader would keep such a value silently changed.
fn stray_quotes(content: &[u8]) -> std::collections::HashSet<(u64, usize)> {
    #[derive(PartialEq)]
    enum At {
        Start,
        Unquoted,
        Quoted,
        AfterQuote,
    }
    let mut strays = std::collections::HashSet::new();
    let (mut line, mut row_line, mut field, mut at) = (1u64, 1u64, 0usize, At::Start);
    let mut bytes = content.iter().peekable();
    while let Some(&b) = bytes.next() {
        match (&at, b) {
            (At::Quoted, b'"') if bytes.peek() == Some(&&b'"') => {
                bytes.next();
            }
            (At::Quoted, b'"') => at = At::AfterQuote,
            (At::Quoted, b'\n') => line += 1,
            (At::Quoted, _) => {}
            (_, b',') => {
                field += 1;
                at = At::Start;
            }
            (_, b'\n') => {
                line += 1;
                row_line = line;
                field = 0;
                at = At::Start;
            }
            (_, b'\r') => {}
            (At::Start, b'"') => at = At::Quoted,
            (At::Start, _) => at = At::Unquoted,
            (At::Unquoted, b'"') | (At::AfterQuote, _) => {
                strays.insert((row_line, field));
            }
            (At::Unquoted, _) => {}
        }
    }
    strays
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

    fn problems(content: &str) -> Vec<String> {
        read(content.as_bytes())
            .expect_err("refused")
            .iter()
            .map(|p| format!("{}: {}", p.place(), p.reason))
            .collect()
    }

    const HEADER: &str =
        "student_id,first_name,last_name,email,sms_phone,home_phone,relationship,contact_type";

    #[test]
    fn a_doubled_quote_inside_quotes_is_a_quote() {
        let file = format!("{HEADER}\n1,\"Bob \"\"B\"\"\",Li,,,,parent,\n");
        let rows = read(file.as_bytes()).expect("good");
        assert_eq!(rows[0].first_name, "Bob \"B\"");
    }

    #[test]
    fn a_utf16_file_is_one_problem_saying_so() {
        let text = format!("{HEADER}\n1,Ana,Ruiz,,,,parent,\n");
        let units = text.encode_utf16();
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(units.clone().flat_map(u16::to_le_bytes))
            .collect();
        let be_without_bom: Vec<u8> = units.flat_map(u16::to_be_bytes).collect();
        for file in [le, be_without_bom] {
            let problems = read(&file).expect_err("not UTF-8");
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(problems[0].reason.contains("UTF-16"), "{problems:?}");
        }
    }

    #[test]
    fn the_template_reads_with_a_bom_quotes_and_crlf() {
        let with_bom = format!("\u{feff}{TEMPLATE}");
        let rows = read(with_bom.as_bytes()).expect("the template is a good file");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].relationship, Relationship::Mother);
        assert_eq!(rows[0].contact_type, ContactType::Guardian);
        assert_eq!(rows[1].first_name, "O'Neil, Jr.");
        assert_eq!(rows[1].line, 3);
        assert_eq!(rows[0].guardian_key, "ana.ruiz@example.net");
    }

    #[test]
    fn columns_may_come_in_any_order_with_lf() {
        let file = "Relationship, Student_ID ,first_name,last_name,email,sms_phone,home_phone,contact_type\nparent,7,Jo,Li,,,,\n";
        let rows = read(file.as_bytes()).expect("good");
        assert_eq!(rows[0].student_id, "7");
        assert_eq!(rows[0].contact_type, ContactType::OtherContactType);
        assert_eq!(rows[0].guardian_key, "jo|li|");
    }

    #[test]
    fn every_problem_is_named_with_its_line_and_column_at_once() {
        let file = format!(
            "{HEADER}\n\
             ,Ana,Ruiz,ana@example.net,,,mother,guardian\n\
             7,Bo,Li,bo@@example,,,father,guardian\n\
             7,Cy,Ng,cy@example.net,12,,aunt,family\n\
             8,Ana,Ruiz,ana@example.net,,,mother,guardian\n\
             8,Ana,Ruiz,ana@example.net,,,mother,guardian\n\
             9,Dee,\"Ko\"x,dee@example.net,,,parent,guardian\n\
             9,Eve,Ma,eve@example.net,,,parent\n"
        );
        let got = problems(&file);
        assert_eq!(
            got,
            [
                "line 2, column student_id: missing: the student's id",
                "line 3, column email: \"bo@@example\" is not an e-mail address",
                "line 4, column sms_phone: \"12\" is not a phone number",
                "line 6: duplicate row: line 5 lists the same guardian for student 8",
                "line 7, column last_name: a stray quote: quote the whole value, and double a quote inside it",
                "line 8: 7 fields where the header has 8 (a stray quote or a missing comma?)",
            ]
        );
    }

    #[test]
    fn a_missing_or_unknown_column_is_named() {
        let got = problems("student_id,first_name,last_name,e-mail,sms_phone,home_phone,relationship\n1,a,b,,,,parent\n");
        assert_eq!(
            got,
            [
                "line 1, column contact_type: missing column",
                "line 1, column e-mail: unknown column; the columns are student_id, first_name, last_name, email, sms_phone, home_phone, relationship, contact_type",
                "line 1, column email: missing column",
            ]
        );
    }

    #[test]
    fn one_guardian_has_one_set_of_names_and_an_empty_file_is_refused() {
        let file = format!(
            "{HEADER}\n1,Ana,Ruiz,ana@example.net,555 010 2233,,mother,guardian\n2,Anna,Ruiz,ANA@example.net,555 010 2233,,mother,guardian\n"
        );
        assert_eq!(
            problems(&file),
            ["line 3, column first_name: the same guardian differs from line 2: one guardian, one set of names and phones"]
        );
        assert_eq!(
            problems(&format!("{HEADER}\r\n")),
            ["line 2: the file holds no rows"]
        );
        assert_eq!(problems(""), ["line 1: the file is empty"]);
    }

    #[test]
    fn emails_and_phones_are_checked_plainly() {
        assert!(is_email("a.b+c@school.example.org"));
        assert!(!is_email("a b@x.org") && !is_email("a@x") && !is_email("a@x..org"));
        assert!(is_phone("+1 (555) 010-2233") && is_phone("555.010.2233"));
        assert!(!is_phone("12") && !is_phone("555-010-2233 ext") && !is_phone("1+5550102233"));
    }
}
