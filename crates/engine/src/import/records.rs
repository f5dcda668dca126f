//! A `guardians.csv` read record by record, a block at a time: memory holds one block and
//! one record, whatever the file's size.
//!
//! Records are split as RFC 4180 says (through `csv_core`, as the `csv` crate does: CRLF,
//! LF or CR end a record, empty lines are skipped, a leading UTF-8 byte-order mark is
//! not data). Beside its values, each record carries what a CSV reader hides:
//! - its line, counted from the bytes (1 is the first line; a record starts at its first
//!   byte that ends no line), and its byte offset, to read it again later;
//! - the values holding a stray quote — inside an unquoted value, or after a quoted
//!   value's closing quote — which a reader would keep silently changed;
//! - whether it was too long to keep ([`MAX_RECORD_BYTES`]): it is read past, and its
//!   values are not kept.

use std::io::{self, Read};

use csv_core::ReadRecordResult;

/// The most a record's values may hold together; a longer record (a quote left open
/// swallows the rest of the file) is read past without keeping them.
pub const MAX_RECORD_BYTES: usize = 64 * 1024;
/// Values of a record kept; more are counted, not kept.
const MAX_FIELDS: usize = 64;
/// Bytes read from the file at a time.
const READ_BLOCK: usize = 64 * 1024;
/// Bytes read at a time to read one record again.
const ONE_RECORD_BLOCK: usize = 1024;
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One record of the file.
#[derive(Debug)]
pub struct Record<'a> {
    /// Its first line (1: the file's first).
    pub line: u64,
    /// The byte offset of its first byte in the file.
    pub offset: u64,
    /// How many values it has.
    pub len: usize,
    /// Longer than [`MAX_RECORD_BYTES`]: its values were not kept.
    pub oversized: bool,
    /// Bit `i`: value `i` holds a stray quote.
    strays: u64,
    out: &'a [u8],
    ends: &'a [usize],
}

impl<'a> Record<'a> {
    /// Value `i`, as bytes (none for a value not kept).
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        if self.oversized {
            return None;
        }
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.out.get(start..end)
    }

    /// The values kept, in order.
    pub fn values(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (0..self.ends.len()).filter_map(|i| self.get(i))
    }

    /// Whether value `i` holds a stray quote.
    pub fn stray_quote(&self, i: usize) -> bool {
        i < 64 && self.strays & (1 << i) != 0
    }
}

/// Where a byte stands among quotes, as RFC 4180 reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Start,
    Unquoted,
    Quoted,
    /// A quote inside a quoted value: a doubled quote, or the closing one.
    QuotedQuote,
    AfterQuote,
}

/// What the bytes of the record being read say beside its values.
#[derive(Debug)]
struct Scan {
    line: u64,
    at: At,
    field: usize,
    strays: u64,
    /// The line and offset of the record's first byte, once seen.
    start: Option<(u64, u64)>,
}

impl Scan {
    fn byte(&mut self, b: u8, offset: u64) {
        if self.start.is_none() && b != b'\r' && b != b'\n' {
            self.start = Some((self.line, offset));
        }
        if b == b'\n' {
            self.line += 1;
        }
        if self.at == At::QuotedQuote {
            if b == b'"' {
                self.at = At::Quoted;
                return;
            }
            self.at = At::AfterQuote;
        }
        match (self.at, b) {
            (At::Quoted, b'"') => self.at = At::QuotedQuote,
            (At::Quoted, _) => {}
            (_, b',') => {
                self.field += 1;
                self.at = At::Start;
            }
            (_, b'\n') => {
                self.field = 0;
                self.at = At::Start;
            }
            (_, b'\r') => {}
            (At::Start, b'"') => self.at = At::Quoted,
            (At::Start, _) => self.at = At::Unquoted,
            (At::Unquoted, b'"') | (At::AfterQuote, _) if self.field < 64 => {
                self.strays |= 1 << self.field;
            }
            _ => {}
        }
    }

    /// Ready for the next record.
    fn next_record(&mut self) {
        self.at = At::Start;
        self.field = 0;
        self.strays = 0;
        self.start = None;
    }
}

/// The records of a file, in order.
#[derive(Debug)]
pub struct Records<R> {
    input: R,
    buf: Vec<u8>,
    /// The unread bytes of `buf`.
    pos: usize,
    end: usize,
    /// The file offset of `buf[0]`.
    base: u64,
    eof: bool,
    core: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    nout: usize,
    nend: usize,
    /// Values counted but not kept, of the record being read.
    dropped: usize,
    oversized: bool,
    scan: Scan,
    first_call: bool,
}

impl<R: Read> Records<R> {
    /// Reads `input`, which starts at byte `offset` of the file (a byte-order mark is
    /// looked for at offset 0 only).
    pub fn new(input: R, offset: u64) -> Self {
        Self::with_block(input, offset, READ_BLOCK)
    }

    /// As [`Records::new`], to read one record: a small block.
    pub fn one(input: R, offset: u64) -> Self {
        Self::with_block(input, offset, ONE_RECORD_BLOCK)
    }

    fn with_block(input: R, offset: u64, block: usize) -> Self {
        Records {
            input,
            buf: vec![0; block],
            pos: 0,
            end: 0,
            base: offset,
            eof: false,
            core: csv_core::Reader::new(),
            out: vec![0; 1024],
            ends: vec![0; 16],
            nout: 0,
            nend: 0,
            dropped: 0,
            oversized: false,
            scan: Scan {
                line: 1,
                at: At::Start,
                field: 0,
                strays: 0,
                start: None,
            },
            first_call: true,
        }
    }

    /// Reads `input` instead, from byte `offset` of the file, as [`Records::new`] would
    /// (its buffers and its parser, costly to build, are kept).
    pub fn restart(&mut self, input: R, offset: u64) {
        self.input = input;
        self.pos = 0;
        self.end = 0;
        self.base = offset;
        self.eof = false;
        self.core.reset();
        self.nout = 0;
        self.nend = 0;
        self.dropped = 0;
        self.oversized = false;
        self.scan.line = 1;
        self.scan.next_record();
        self.first_call = true;
    }

    /// Reads the next block; at offset 0, past a byte-order mark.
    fn fill(&mut self) -> io::Result<()> {
        self.base += self.end as u64;
        self.pos = 0;
        self.end = 0;
        // Enough bytes to see a byte-order mark whole.
        while self.end < BOM.len() {
            let n = self.input.read(&mut self.buf[self.end..])?;
            if n == 0 {
                self.eof = true;
                break;
            }
            self.end += n;
        }
        if self.base == 0 && self.buf[..self.end].starts_with(BOM) {
            self.pos = BOM.len();
        }
        Ok(())
    }

    /// The next record, or `None` at the end of the file.
    pub fn next_record(&mut self) -> io::Result<Option<Record<'_>>> {
        loop {
            if self.pos == self.end && !self.eof {
                self.fill()?;
                continue;
            }
            let mut input = &self.buf[self.pos..self.end];
            if self.base != 0 && self.first_call && !input.is_empty() {
                // A reader taken up mid-file reads its first byte alone: a record that
                // starts with the bytes of a byte-order mark keeps them.
                input = &input[..1];
            }
            self.first_call = false;
            let (result, nin, nout, nend) = self.core.read_record(
                input,
                &mut self.out[self.nout..],
                &mut self.ends[self.nend..],
            );
            let at = self.base + self.pos as u64;
            for (i, b) in input[..nin].iter().enumerate() {
                self.scan.byte(*b, at + i as u64);
            }
            self.pos += nin;
            self.nout += nout;
            self.nend += nend;
            match result {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull if self.out.len() >= MAX_RECORD_BYTES => {
                    self.oversized = true;
                    self.nout = 0;
                }
                ReadRecordResult::OutputFull => {
                    let len = self.out.len() * 2;
                    self.out.resize(len, 0);
                }
                ReadRecordResult::OutputEndsFull if self.ends.len() >= MAX_FIELDS => {
                    self.dropped += self.nend;
                    self.nend = 0;
                    self.oversized = true;
                }
                ReadRecordResult::OutputEndsFull => {
                    let len = self.ends.len() * 2;
                    self.ends.resize(len, 0);
                }
                ReadRecordResult::Record => return Ok(Some(self.take())),
                ReadRecordResult::End => return Ok(None),
            }
        }
    }

    /// The record just read; the state is made ready for the next.
    fn take(&mut self) -> Record<'_> {
        let (line, offset) = self.scan.start.unwrap_or((self.scan.line, self.base));
        let record = Record {
            line,
            offset,
            len: self.dropped + self.nend,
            oversized: self.oversized,
            strays: self.scan.strays,
            out: &self.out[..self.nout],
            ends: &self.ends[..self.nend],
        };
        self.scan.next_record();
        self.nout = 0;
        self.nend = 0;
        self.dropped = 0;
        self.oversized = false;
        record
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (line, offset, values, stray quote columns) of every record.
    fn read(text: &[u8]) -> Vec<(u64, u64, Vec<String>, Vec<usize>)> {
        let mut records = Records::new(text, 0);
        let mut out = Vec::new();
        while let Some(r) = records.next_record().expect("read") {
            let values = r
                .values()
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect();
            let strays = (0..r.len).filter(|i| r.stray_quote(*i)).collect();
            out.push((r.line, r.offset, values, strays));
        }
        out
    }

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn lines_and_offsets_count_crlf_blank_lines_a_mark_and_quoted_line_breaks() {
        let got = read(b"\xEF\xBB\xBFa,b\r\n\r\n\"x\ny\",z\r\nlast,one");
        assert_eq!(
            got,
            [
                (1, 3, strings(&["a", "b"]), vec![]),
                (3, 10, strings(&["x\ny", "z"]), vec![]),
                (5, 19, strings(&["last", "one"]), vec![]),
            ]
        );
    }

    #[test]
    fn stray_quotes_are_named_by_value_and_doubled_quotes_are_quotes() {
        let got = read(b"\"Ko\"x,a\"b,\"\"\"q\"\"\",\"ok\"\n");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].2, strings(&["Kox", "a\"b", "\"q\"", "ok"]));
        assert_eq!(got[0].3, [0, 1]);
    }

    #[test]
    fn a_record_too_long_to_keep_is_read_past() {
        let mut text = b"a,\"".to_vec();
        text.extend(std::iter::repeat_n(b'x', 2 * MAX_RECORD_BYTES));
        text.extend(b"\"\nb,c\n");
        let mut records = Records::new(&text[..], 0);
        let first = records.next_record().expect("read").expect("a record");
        assert!(first.oversized);
        assert_eq!((first.len, first.get(0)), (2, None));
        let next = records.next_record().expect("read").expect("a record");
        assert_eq!(next.line, 2);
        assert_eq!(next.values().collect::<Vec<_>>(), [b"b", b"c"]);

        let many = format!("{}\n", vec!["v"; 200].join(","));
        let mut records = Records::new(many.as_bytes(), 0);
        let r = records.next_record().expect("read").expect("a record");
        assert!(r.oversized);
        assert_eq!(r.len, 200);
    }

    #[test]
    fn a_record_read_again_from_its_offset_is_the_same() {
        let text = b"h1,h2\n\"two\nlines\",x\nlast,y\n";
        let second = read(text)[1].clone();
        let mut again = Records::new(&text[second.1 as usize..], second.1);
        let r = again.next_record().expect("read").expect("a record");
        assert_eq!(
            r.values().map(<[u8]>::to_vec).collect::<Vec<_>>(),
            [b"two\nlines".to_vec(), b"x".to_vec()]
        );
        assert_eq!(r.offset, second.1);
    }
}
