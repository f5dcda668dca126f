//! Walking a paged list to its documented end and proving it whole, three ways:
//!
//! - [`PageWalk`] (PowerSchool): pages by number (1-based) until a page comes back shorter
//!   than the page size or, when the source declared a count, until that many rows
//!   arrived; a page that repeats the one before (a server ignoring `page`) is refused.
//! - [`CursorWalk`] (Clever): follows the `next` cursor until there is none; no totals, so
//!   completeness is the walk reaching its end with no cursor seen twice and no page short
//!   before the end.
//! - [`OffsetWalk`] (OneRoster): `limit`/`offset` to the declared `X-Total-Count` (or the
//!   first short page without one); a count that changes mid-pull is refused.
//!
//! A list that ends before its count — a lost page, a short page in the middle — runs past
//! it, or loops is an error ([`ConnectorError::Incomplete`],
//! [`ConnectorError::BrokenPaging`]), never a silently shorter roster.

use std::collections::HashSet;

use crate::error::ConnectorError;

/// The state of one paged read.
#[derive(Debug, Clone)]
pub struct PageWalk {
    endpoint: String,
    page_size: u32,
    declared: Option<u64>,
    next_page: u32,
    received: u64,
    done: bool,
    last_first_key: Option<String>,
}

impl PageWalk {
    /// A walk over `endpoint` in pages of `page_size` rows (at least 1), expecting
    /// `declared` rows when the source said how many there are.
    pub fn new(endpoint: impl Into<String>, page_size: u32, declared: Option<u64>) -> Self {
        PageWalk {
            endpoint: endpoint.into(),
            page_size: page_size.max(1),
            done: declared == Some(0),
            declared,
            next_page: 1,
            received: 0,
            last_first_key: None,
        }
    }

    pub fn page_size(&self) -> u32 {
        self.page_size
    }

    /// The page to fetch next, or `None` when the list is read.
    pub fn next_page(&self) -> Option<u32> {
        (!self.done).then_some(self.next_page)
    }

    /// Rows received so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Records a page of `rows` rows; fails when the list turns out shorter or longer
    /// than declared.
    pub fn record(&mut self, rows: usize) -> Result<(), ConnectorError> {
        self.received += rows as u64;
        self.next_page += 1;
        let short = (rows as u64) < u64::from(self.page_size);
        match self.declared {
            Some(declared) if self.received > declared => return Err(self.incomplete(declared)),
            Some(declared) if self.received == declared => self.done = true,
            Some(declared) if short => return Err(self.incomplete(declared)),
            _ => self.done = short,
        }
        Ok(())
    }

    /// As [`PageWalk::record`], also refusing a page whose first row is the previous
    /// page's first row: a server that ignores `page` would send page 1 forever.
    pub fn record_page(
        &mut self,
        rows: usize,
        first_key: Option<&str>,
    ) -> Result<(), ConnectorError> {
        if let (Some(key), Some(last)) = (first_key, self.last_first_key.as_deref()) {
            if key == last {
                self.done = true;
                return Err(ConnectorError::BrokenPaging {
                    endpoint: self.endpoint.clone(),
                    reason: format!("page {} repeats the page before it", self.next_page),
                });
            }
        }
        self.last_first_key = first_key.map(str::to_owned);
        self.record(rows)
    }

    /// Checks a count taken again at the end of the walk: a list that changed while it
    /// was read is refused rather than taken as whole.
    pub fn recount(&mut self, now: u64) -> Result<(), ConnectorError> {
        match self.declared {
            Some(declared) if declared != now => Err(ConnectorError::BrokenPaging {
                endpoint: self.endpoint.clone(),
                reason: format!("the count changed from {declared} to {now} during the pull"),
            }),
            _ => Ok(()),
        }
    }

    fn incomplete(&mut self, declared: u64) -> ConnectorError {
        self.done = true;
        ConnectorError::Incomplete {
            endpoint: self.endpoint.clone(),
            declared,
            received: self.received,
        }
    }
}

/// A walk that follows a source's `next` cursor to the end.
#[derive(Debug, Clone)]
pub struct CursorWalk {
    endpoint: String,
    limit: u32,
    seen: HashSet<String>,
    next: Option<String>,
    started: bool,
    done: bool,
    received: u64,
}

/// Where a cursor walk goes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorStep<'a> {
    /// The first page.
    First,
    /// The page after this cursor.
    After(&'a str),
}

impl CursorWalk {
    pub fn new(endpoint: impl Into<String>, limit: u32) -> Self {
        CursorWalk {
            endpoint: endpoint.into(),
            limit: limit.max(1),
            seen: HashSet::new(),
            next: None,
            started: false,
            done: false,
            received: 0,
        }
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The page to fetch next, or `None` when the list is read.
    pub fn next(&self) -> Option<CursorStep<'_>> {
        if self.done {
            return None;
        }
        Some(match (&self.next, self.started) {
            (_, false) => CursorStep::First,
            (Some(cursor), true) => CursorStep::After(cursor),
            (None, true) => return None,
        })
    }

    pub fn received(&self) -> u64 {
        self.received
    }

    /// Records a page of `rows` rows and the cursor the source gave for the next one
    /// (`None` at the end). Refuses a cursor seen before and a short page that is not
    /// the last.
    pub fn record(&mut self, rows: usize, next: Option<String>) -> Result<(), ConnectorError> {
        self.started = true;
        self.received += rows as u64;
        let broken = |this: &mut Self, reason: String| {
            this.done = true;
            ConnectorError::BrokenPaging {
                endpoint: this.endpoint.clone(),
                reason,
            }
        };
        match next {
            None => {
                self.done = true;
                self.next = None;
                Ok(())
            }
            Some(_) if (rows as u64) < u64::from(self.limit) => Err(broken(
                self,
                format!(
                    "a page of {rows} (asked for {}) came back before the end",
                    self.limit
                ),
            )),
            Some(cursor) if !self.seen.insert(cursor.clone()) => Err(broken(
                self,
                format!("the cursor {cursor:?} came back a second time"),
            )),
            Some(cursor) => {
                self.next = Some(cursor);
                Ok(())
            }
        }
    }
}

/// A `limit`/`offset` walk to a declared total (`X-Total-Count`) or the first short page.
#[derive(Debug, Clone)]
pub struct OffsetWalk {
    endpoint: String,
    limit: u32,
    declared: Option<u64>,
    offset: u64,
    done: bool,
}

impl OffsetWalk {
    pub fn new(endpoint: impl Into<String>, limit: u32) -> Self {
        OffsetWalk {
            endpoint: endpoint.into(),
            limit: limit.max(1),
            declared: None,
            offset: 0,
            done: false,
        }
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The offset to fetch next, or `None` when the list is read.
    pub fn next_offset(&self) -> Option<u64> {
        (!self.done).then_some(self.offset)
    }

    pub fn received(&self) -> u64 {
        self.offset
    }

    /// Records a page of `rows` rows with the total the answer declared, if any.
    pub fn record(&mut self, rows: usize, total: Option<u64>) -> Result<(), ConnectorError> {
        if let Some(total) = total {
            match self.declared {
                Some(declared) if declared != total => {
                    self.done = true;
                    return Err(ConnectorError::BrokenPaging {
                        endpoint: self.endpoint.clone(),
                        reason: format!(
                            "the total changed from {declared} to {total} during the pull"
                        ),
                    });
                }
                _ => self.declared = Some(total),
            }
        }
        self.offset += rows as u64;
        let short = (rows as u64) < u64::from(self.limit);
        match self.declared {
            Some(declared) if self.offset == declared => self.done = true,
            Some(declared) if self.offset > declared || short => {
                self.done = true;
                return Err(ConnectorError::Incomplete {
                    endpoint: self.endpoint.clone(),
                    declared,
                    received: self.offset,
                });
            }
            Some(_) => {}
            None => self.done = short,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_walk_refuses_a_repeated_page_and_a_count_that_changed() {
        let mut w = PageWalk::new("GET /list", 2, Some(6));
        w.record_page(2, Some("a")).expect("page 1");
        let err = w
            .record_page(2, Some("a"))
            .expect_err("page 2 repeats page 1");
        assert!(err.to_string().contains("repeats"), "{err}");
        assert_eq!(w.next_page(), None);

        let mut w = PageWalk::new("GET /list", 2, Some(4));
        w.record_page(2, Some("a")).expect("page 1");
        w.record_page(2, Some("c")).expect("page 2");
        let err = w.recount(5).expect_err("the count moved");
        assert!(err.to_string().contains("from 4 to 5"), "{err}");
        assert!(w.recount(4).is_ok());
    }

    #[test]
    fn a_cursor_walk_follows_next_to_the_end() {
        let mut w = CursorWalk::new("GET /users", 2);
        assert_eq!(w.next(), Some(CursorStep::First));
        w.record(2, Some("c1".into())).expect("page 1");
        assert_eq!(w.next(), Some(CursorStep::After("c1")));
        w.record(1, None).expect("a short last page ends it");
        assert_eq!(w.next(), None);
        assert_eq!(w.received(), 3);
    }

    #[test]
    fn a_cursor_walk_refuses_a_repeated_cursor() {
        let mut w = CursorWalk::new("GET /users", 2);
        w.record(2, Some("c1".into())).expect("page 1");
        w.record(2, Some("c2".into())).expect("page 2");
        let err = w.record(2, Some("c1".into())).expect_err("a loop");
        assert!(matches!(err, ConnectorError::BrokenPaging { .. }), "{err}");
        assert_eq!(w.next(), None);
    }

    #[test]
    fn a_cursor_walk_refuses_a_short_page_before_the_end() {
        let mut w = CursorWalk::new("GET /users", 3);
        let err = w
            .record(2, Some("c1".into()))
            .expect_err("short with more to come");
        assert!(err.to_string().contains("before the end"), "{err}");
    }

    #[test]
    fn an_offset_walk_reads_to_the_declared_total() {
        let mut w = OffsetWalk::new("GET /users", 2);
        assert_eq!(w.next_offset(), Some(0));
        w.record(2, Some(5)).expect("0..2");
        assert_eq!(w.next_offset(), Some(2));
        w.record(2, Some(5)).expect("2..4");
        w.record(1, Some(5)).expect("4..5");
        assert_eq!(w.next_offset(), None);
    }

    #[test]
    fn an_offset_walk_refuses_a_short_page_before_the_total() {
        let mut w = OffsetWalk::new("GET /users", 2);
        w.record(2, Some(6)).expect("0..2");
        let err = w.record(1, Some(6)).expect_err("short before the total");
        assert!(matches!(
            err,
            ConnectorError::Incomplete {
                declared: 6,
                received: 3,
                ..
            }
        ));
    }

    #[test]
    fn an_offset_walk_refuses_a_total_that_changes_mid_pull() {
        let mut w = OffsetWalk::new("GET /users", 2);
        w.record(2, Some(6)).expect("0..2");
        let err = w.record(2, Some(7)).expect_err("the total moved");
        assert!(err.to_string().contains("from 6 to 7"), "{err}");
        assert_eq!(w.next_offset(), None);
    }

    #[test]
    fn an_offset_walk_without_a_total_stops_at_a_short_page() {
        let mut w = OffsetWalk::new("GET /users", 2);
        w.record(2, None).expect("0..2");
        w.record(0, None).expect("the end");
        assert_eq!(w.next_offset(), None);
        assert_eq!(w.received(), 2);
    }

    fn walk(
        sizes: &[usize],
        page_size: u32,
        declared: Option<u64>,
    ) -> (Vec<u32>, Result<u64, ConnectorError>) {
        let mut w = PageWalk::new("GET /list", page_size, declared);
        let mut pages = Vec::new();
        for &n in sizes {
            let Some(p) = w.next_page() else { break };
            pages.push(p);
            if let Err(e) = w.record(n) {
                return (pages, Err(e));
            }
        }
        assert_eq!(w.next_page(), None, "the walk must have ended");
        (pages, Ok(w.received()))
    }

    #[test]
    fn a_declared_list_stops_at_its_count_without_an_empty_page() {
        let (pages, got) = walk(&[5, 5], 5, Some(10));
        assert_eq!(pages, vec![1, 2]);
        assert_eq!(got.expect("whole"), 10);
    }

    #[test]
    fn an_undeclared_list_stops_at_the_first_short_page() {
        let (pages, got) = walk(&[5, 5, 0], 5, None);
        assert_eq!(pages, vec![1, 2, 3]);
        assert_eq!(got.expect("whole"), 10);
    }

    #[test]
    fn a_short_page_before_the_declared_count_is_incomplete() {
        let (_, got) = walk(&[5, 4], 5, Some(10));
        match got.expect_err("must be refused") {
            ConnectorError::Incomplete {
                endpoint,
                declared,
                received,
            } => {
                assert_eq!(
                    (endpoint.as_str(), declared, received),
                    ("GET /list", 10, 9)
                );
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn more_rows_than_declared_is_incomplete_too() {
        let (_, got) = walk(&[5, 5], 5, Some(7));
        assert!(matches!(
            got,
            Err(ConnectorError::Incomplete {
                declared: 7,
                received: 10,
                ..
            })
        ));
    }

    #[test]
    fn an_empty_declared_list_needs_no_request() {
        let w = PageWalk::new("GET /list", 5, Some(0));
        assert_eq!(w.next_page(), None);
    }
}
