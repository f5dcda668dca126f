//! The checks of a whole `guardians.csv` that need no database, a record at a time, in
//! memory that does not grow with the file.
//!
//! Each row is checked on its own ([`Header::row`]). Across rows, a file must not list
//! one guardian twice for one student, and a guardian's rows must agree on names and
//! phones: both are checked against the row that first listed the pair or the guardian,
//! found by a hash of its key (where it was seen: its line and byte offset) and read
//! again from the file to compare — so the check is exact, and a key whose hash another
//! key holds is kept by its value instead.
//!
//! What is held across rows is bounded ([`HELD`] sightings of each kind, about 7 MB
//! each): a file with more rows is checked across rows in parts, by the keys' hashes, a
//! pass over the file per part — the pairs first (a duplicate row is not compared with
//! its guardian's first), then the guardians. Most files are checked in one pass.
//!
//! The check also marks each guardian's first row, where the import's source sends the
//! guardian's account ([`Checked::is_first_of_guardian`]).

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

use super::file::{Line, Problem, Row, Rows, Seen};
use super::problems::{read_error, refused, Problems};
use super::records::Records;
use super::upload::Upload;
use crate::EngineError;

/// Sightings of each kind (pairs, guardians) held at once: 7/8 of 2^19, as many as a hash
/// table of 2^19 places holds without growing (12 bytes each).
const HELD: usize = 458_752;

/// Bytes at the start of a file looked at to tell UTF-16 from UTF-8.
const SNIFF_BYTES: usize = 64 * 1024;

/// One bit per row.
#[derive(Debug, Clone, Default)]
struct Bits(Vec<u64>);

impl Bits {
    fn get(&self, n: u64) -> bool {
        self.0
            .get((n / 64) as usize)
            .is_some_and(|w| w & (1 << (n % 64)) != 0)
    }

    fn set(&mut self, n: u64) {
        let word = (n / 64) as usize;
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << (n % 64);
    }
}

/// What the check learned of a good file.
#[derive(Debug, Clone, Default)]
pub(super) struct Checked {
    /// Its rows.
    pub rows: u64,
    /// Its guardians.
    pub guardians: u64,
    /// Bit `n`: row `n` (from 0, blank lines aside) is its guardian's first.
    first_of_guardian: Bits,
}

impl Checked {
    pub fn is_first_of_guardian(&self, row: u64) -> bool {
        self.first_of_guardian.get(row)
    }

    fn first_of_guardian(&mut self, row: u64) {
        self.first_of_guardian.set(row);
        self.guardians += 1;
    }
}

/// First sightings of keys, by (the upper half of) their hash; a key whose hash another
/// key already holds is kept by its value.
#[derive(Debug, Default)]
struct FirstSeen {
    by_hash: HashMap<u32, Seen>,
    by_value: HashMap<String, Seen>,
}

impl FirstSeen {
    fn holds(&self) -> usize {
        self.by_hash.len()
    }

    /// The row that first listed `key` and where it was, or `None` if `here` is the
    /// first (and is recorded). `read` reads a row back from its offset.
    fn first(
        &mut self,
        hash: u64,
        key: &str,
        key_of: impl Fn(&Row) -> String,
        here: Seen,
        read: &mut impl FnMut(u32) -> Result<Row, EngineError>,
    ) -> Result<Option<(Seen, Row)>, EngineError> {
        let short = (hash >> 32) as u32;
        let Some(&seen) = self.by_hash.get(&short) else {
            self.by_hash.insert(short, here);
            return Ok(None);
        };
        let row = read(seen.1)?;
        if key_of(&row) == key {
            return Ok(Some((seen, row)));
        }
        match self.by_value.get(key) {
            Some(&seen) => Ok(Some((seen, read(seen.1)?))),
            None => {
                self.by_value.insert(key.to_owned(), here);
                Ok(None)
            }
        }
    }
}

fn pair_key(row: &Row) -> String {
    // Values hold no control character: the separator cannot appear in them.
    format!("{}\u{1}{}", row.student_id, row.guardian_key)
}

fn guardian_key(row: &Row) -> String {
    row.guardian_key.clone()
}

/// The checks across rows, over one part of the keys (`part` of `parts`, by hash).
#[derive(Debug)]
struct Across<'h> {
    hasher: &'h RandomState,
    part: u64,
    parts: u64,
    /// Sightings of each kind it may hold.
    held: usize,
    pairs: FirstSeen,
    people: FirstSeen,
    problems: Problems,
}

impl<'h> Across<'h> {
    fn new(hasher: &'h RandomState, part: u64, parts: u64, held: usize) -> Self {
        Across {
            hasher,
            part,
            parts,
            held,
            pairs: FirstSeen::default(),
            people: FirstSeen::default(),
            problems: Problems::default(),
        }
    }

    fn full(&self) -> bool {
        self.pairs.holds() >= self.held || self.people.holds() >= self.held
    }

    /// Whether `row` lists a guardian its student already has (a problem); only rows
    /// whose pair falls in this part are looked at.
    fn duplicate(
        &mut self,
        row: &Row,
        here: Seen,
        read: &mut impl FnMut(u32) -> Result<Row, EngineError>,
    ) -> Result<bool, EngineError> {
        let key = pair_key(row);
        let hash = self.hasher.hash_one(&key);
        if hash % self.parts != self.part {
            return Ok(false);
        }
        let Some(((first, _), _)) = self.pairs.first(hash, &key, pair_key, here, read)? else {
            return Ok(false);
        };
        self.problems.push(Problem {
            line: here.0.into(),
            column: String::new(),
            reason: format!(
                "duplicate row: line {first} lists the same guardian for student {}",
                row.student_id
            ),
        });
        Ok(true)
    }

    /// Whether `row` is its guardian's first, comparing it with that first row otherwise
    /// (a difference is a problem); `None` for a row whose guardian is not in this part.
    fn guardian(
        &mut self,
        row: &Row,
        here: Seen,
        read: &mut impl FnMut(u32) -> Result<Row, EngineError>,
    ) -> Result<Option<bool>, EngineError> {
        let hash = self.hasher.hash_one(&row.guardian_key);
        if hash % self.parts != self.part {
            return Ok(None);
        }
        let key = &row.guardian_key;
        let Some(((first, _), earlier)) = self.people.first(hash, key, guardian_key, here, read)?
        else {
            return Ok(Some(true));
        };
        let differs = earlier
            .person()
            .into_iter()
            .zip(row.person())
            .find(|(a, b)| a.1 != b.1);
        if let Some(((column, _), _)) = differs {
            self.problems.push(Problem {
                line: here.0.into(),
                column: column.to_owned(),
                reason: format!(
                    "the same guardian differs from line {first}: one guardian, one set of names and phones"
                ),
            });
        }
        Ok(Some(false))
    }
}

/// A file saved as UTF-16 ("Unicode text"): one problem saying so, not one "unknown
/// column" per garbled header name.
fn looks_like_utf16(upload: &Upload) -> Result<bool, EngineError> {
    use std::io::Read;
    let mut start = Vec::with_capacity(SNIFF_BYTES);
    upload
        .reader_at(0)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut start)
        .map_err(read_error)?;
    let start = start
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(start.as_slice());
    let first_line = start.split(|b| *b == b'\n').next().unwrap_or_default();
    Ok(start.starts_with(b"\xFF\xFE") || start.starts_with(b"\xFE\xFF") || first_line.contains(&0))
}

/// Checks a whole file: what was learned of it, or its problems
/// ([`EngineError::InvalidFile`]).
pub(super) fn check(upload: &Upload) -> Result<Checked, EngineError> {
    check_holding(upload, HELD)
}

/// [`check`], holding at most `held` sightings of each kind at once.
fn check_holding(upload: &Upload, held: usize) -> Result<Checked, EngineError> {
    if looks_like_utf16(upload)? {
        return Err(refused(
            1,
            "the file is not UTF-8 text (it looks like UTF-16): save it as CSV UTF-8",
        ));
    }
    let mut rows = Rows::open(upload)?;
    // Rows are read again by one reader, started over at each.
    let header = rows.header.clone();
    let mut again = Records::one(upload.reader_at(0), 0);
    let mut read = |offset: u32| -> Result<Row, EngineError> {
        again.restart(upload.reader_at(offset.into()), offset.into());
        match again.next_record().map_err(read_error)? {
            Some(record) => match header.row(&record, &mut |_| {}) {
                Line::Row(row) => Ok(*row),
                _ => Err(read_error(std::io::Error::other(format!(
                    "the row at byte {offset} no longer reads"
                )))),
            },
            None => Err(read_error(std::io::ErrorKind::UnexpectedEof.into())),
        }
    };
    let hasher = RandomState::new();
    let mut problems = Problems::default();
    let mut checked = Checked::default();
    // Each row on its own, and across rows while what is held fits.
    let mut across = Some(Across::new(&hasher, 0, 1, held));
    while let Some((line, here)) = rows.next_line(&mut |p| problems.push(p))? {
        let n = checked.rows;
        checked.rows += 1;
        let Line::Row(row) = line else { continue };
        let Some(a) = across.as_mut().filter(|a| !a.full()) else {
            across = None;
            continue;
        };
        if !a.duplicate(&row, here, &mut read)? && a.guardian(&row, here, &mut read)? == Some(true)
        {
            checked.first_of_guardian(n);
        }
    }
    match across {
        Some(a) => problems.extend(a.problems),
        None => {
            checked.first_of_guardian = Bits::default();
            checked.guardians = 0;
            let parts = Parts {
                hasher: &hasher,
                held,
            };
            problems.extend(parts.check(upload, &mut checked, &mut read)?);
        }
    }
    if checked.rows == 0 && problems.is_empty() {
        return Err(refused(2, "the file holds no rows"));
    }
    problems.into_result()?;
    Ok(checked)
}

/// The checks across rows of a file too large to hold at once.
#[derive(Debug)]
struct Parts<'h> {
    hasher: &'h RandomState,
    held: usize,
}

impl Parts<'_> {
    /// In parts by the keys' hashes, each a pass over the file: every part's pairs, then
    /// every part's guardians (rows listing a pair twice left out).
    fn check(
        &self,
        upload: &Upload,
        checked: &mut Checked,
        read: &mut impl FnMut(u32) -> Result<Row, EngineError>,
    ) -> Result<Problems, EngineError> {
        // A part holds about three quarters of what fits: parts differ a little in size.
        let parts = checked.rows.div_ceil(self.held as u64 * 3 / 4).max(1);
        let mut problems = Problems::default();
        let mut duplicates = Bits::default();
        for pass in 0..2 * parts {
            let mut across = Across::new(self.hasher, pass % parts, parts, usize::MAX);
            let mut rows = Rows::open(upload)?;
            let mut n = 0;
            while let Some((line, here)) = rows.next_line(&mut |_| {})? {
                n += 1;
                let Line::Row(row) = line else { continue };
                if pass < parts {
                    if across.duplicate(&row, here, read)? {
                        duplicates.set(n - 1);
                    }
                } else if !duplicates.get(n - 1) && across.guardian(&row, here, read)? == Some(true)
                {
                    checked.first_of_guardian(n - 1);
                }
            }
            problems.extend(across.problems);
        }
        Ok(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::import::file::TEMPLATE;
    use model::roster::{ContactType, Relationship};

    /// A file's rows, or every problem of it as `place: reason`.
    fn read(content: &[u8]) -> Result<Vec<Row>, Vec<String>> {
        let upload = Upload::from_bytes(content).expect("upload");
        match check(&upload) {
            Ok(checked) => {
                let mut rows = Rows::open(&upload).expect("a checked file opens");
                let mut out = Vec::new();
                while let Some(row) = rows.next_row().expect("read") {
                    out.push(row);
                }
                assert_eq!(out.len() as u64, checked.rows);
                Ok(out)
            }
            Err(EngineError::InvalidFile(p)) => Err(p
                .listed
                .iter()
                .map(|p| format!("{}: {}", p.place(), p.reason))
                .collect()),
            Err(e) => panic!("{e}"),
        }
    }

    fn problems(content: &str) -> Vec<String> {
        read(content.as_bytes()).expect_err("refused")
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
            assert!(problems[0].contains("UTF-16"), "{problems:?}");
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
    fn a_guardians_rows_agree_on_phones_by_their_digits_and_first_rows_are_marked() {
        let file = format!(
            "{HEADER}\n\
             1,Ana,Ruiz,ana@example.net,+1 555 010 2233,,mother,guardian\n\
             2,Ana,Ruiz,ANA@example.net,15550102233,,mother,guardian\n\
             \n\
             2,Bo,Li,,555-010-9000,,father,guardian\n\
             3,Ana,Ruiz,ana@Example.net,1 (555) 010-2233,,mother,guardian\n"
        );
        let upload = Upload::from_bytes(file.as_bytes()).expect("upload");
        let checked = check(&upload).expect("good");
        assert_eq!((checked.rows, checked.guardians), (4, 2));
        let firsts: Vec<bool> = (0..4).map(|n| checked.is_first_of_guardian(n)).collect();
        assert_eq!(firsts, [true, false, true, false]);
    }

    #[test]
    fn the_first_hundred_problems_are_listed_and_the_rest_counted() {
        let mut file = format!("{HEADER}\n");
        for i in 0..250 {
            file.push_str(&format!("{i},Ana,Ruiz,not-an-email,12,,mother,guardian\n"));
        }
        let upload = Upload::from_bytes(file.as_bytes()).expect("upload");
        let Err(EngineError::InvalidFile(p)) = check(&upload) else {
            panic!("refused");
        };
        assert_eq!((p.listed.len(), p.total, p.unlisted()), (100, 500, 400));
        assert_eq!(
            p.listed[..2].iter().map(|p| p.place()).collect::<Vec<_>>(),
            ["line 2, column email", "line 2, column sms_phone"]
        );
        assert_eq!(p.listed[99].place(), "line 51, column sms_phone");
        assert!(p.to_string().ends_with("; and 400 more"), "{p}");
    }

    #[test]
    fn a_quote_left_open_is_one_problem_not_the_rest_of_the_file_in_memory() {
        let mut file = format!("{HEADER}\n1,\"Ana,Ruiz,,,,mother,guardian\n");
        for i in 0..5000 {
            file.push_str(&format!("{i},Bo,Li,bo{i}@example.net,,,father,guardian\n"));
        }
        assert_eq!(
            problems(&file),
            ["line 2: 2 fields where the header has 8 (a stray quote or a missing comma?)"]
        );
    }

    #[test]
    fn a_file_checked_across_rows_in_parts_gives_what_one_pass_gives() {
        let mut file = format!("{HEADER}\n");
        for i in 0..300 {
            // Families of two students with two parents; every seventh family lists a
            // parent twice, every eleventh spells a parent's name two ways.
            let f = i / 2;
            let name = if i % 2 == 1 && f % 11 == 0 {
                "Patty"
            } else {
                "Pat"
            };
            file.push_str(&format!(
                "{i},{name},F{f},pat{f}@example.net,,,mother,guardian\n"
            ));
            file.push_str(&format!("{i},Lee,F{f},,555-010-{f:04},,father,guardian\n"));
            if i % 14 == 0 {
                file.push_str(&format!("{i},Lee,F{f},,555 010 {f:04},,father,guardian\n"));
            }
        }
        let upload = Upload::from_bytes(file.as_bytes()).expect("upload");
        let outcome = |held: usize| match check_holding(&upload, held) {
            Err(EngineError::InvalidFile(p)) => p,
            other => panic!("refused: {other:?}"),
        };
        let whole = outcome(HELD);
        assert_eq!(whole.total, 22 + 14);
        for held in [8, 40, 150] {
            assert_eq!(outcome(held), whole, "held {held}");
        }

        let good = file.replace("Patty", "Pat").replace("555 010 ", "555-099-");
        let upload = Upload::from_bytes(good.as_bytes()).expect("upload");
        let whole = check_holding(&upload, HELD).expect("good");
        let firsts = |c: &Checked| {
            (0..c.rows)
                .map(|n| c.is_first_of_guardian(n))
                .collect::<Vec<_>>()
        };
        for held in [8, 40, 150] {
            let parts = check_holding(&upload, held).expect("good");
            assert_eq!((parts.rows, parts.guardians), (whole.rows, whole.guardians));
            assert_eq!(firsts(&parts), firsts(&whole), "held {held}");
        }
    }
}
