//! Walking a paged list to its documented end and proving it whole, three ways:
//!
//! - [`PageWalk`] (PowerSchool): pages by number (1-based) until the declared count
//!   arrived or, without one, a page comes back shorter than the page size.
//! - [`CursorWalk`] (Clever): follows the `next` cursor until there is none (or a page
//!   comes back empty); no totals, so completeness is the walk reaching its end with no
//!   cursor seen twice.
//! - [`OffsetWalk`] (OneRoster): `limit`/`offset` to the declared `X-Total-Count`, or
//!   while a `next` link says more, or (with neither) to the first empty page; a count
//!   that changes mid-pull is refused.
//!
//! **The server decides the page size** (SPEC §2c): a page shorter than asked is the
//! end only when nothing (a count, a `next` link) says more; an offset walk goes on from
//! the rows that arrived, and a page walk takes the size of a short first page as the
//! server's. Every walk refuses a page that repeats the one before it (the same first
//! and last keys: a server ignoring `page`, `offset` or the cursor) and a walk longer
//! than its declared total allows. A list that ends before its count, runs past it, or
//! loops is an error ([`ConnectorError::Incomplete`], [`ConnectorError::BrokenPaging`]),
//! never a silently shorter (or endless) roster.

use std::collections::HashSet;

use crate::error::ConnectorError;

/// The keys of a page's first and last rows, for [`RepeatGuard`]: `None` for an empty
/// page or rows without keys.
pub type PageKeys<'a> = Option<(&'a str, &'a str)>;

/// A record with a key of its own (a source id), by which a repeated page is known.
pub trait Keyed {
    fn page_key(&self) -> &str;
}

/// The first and last keys of `rows`.
pub fn page_keys<T: Keyed>(rows: &[T]) -> PageKeys<'_> {
    Some((rows.first()?.page_key(), rows.last()?.page_key()))
}

/// Remembers the previous page's first and last keys and refuses a page that repeats
/// them: a server that ignores the page parameter sends the same page for ever.
#[derive(Debug, Clone, Default)]
struct RepeatGuard {
    last: Option<(String, String)>,
}

impl RepeatGuard {
    fn check(&mut self, keys: PageKeys<'_>) -> bool {
        // Rows without keys cannot be compared: such a page is taken as it is.
        let Some((first, last)) = keys.filter(|(f, l)| !f.is_empty() && !l.is_empty()) else {
            self.last = None;
            return true;
        };
        let repeated = self
            .last
            .as_ref()
            .is_some_and(|(f, l)| f == first && l == last);
        self.last = Some((first.to_owned(), last.to_owned()));
        !repeated
    }
}

fn broken(endpoint: &str, reason: String) -> ConnectorError {
    ConnectorError::BrokenPaging {
        endpoint: endpoint.to_owned(),
        reason,
    }
}

fn repeated(endpoint: &str, page: impl std::fmt::Display) -> ConnectorError {
    broken(
        endpoint,
        format!("{page} repeats the page before it (the server ignores paging)"),
    )
}

/// The state of one paged read.
#[derive(Debug, Clone)]
pub struct PageWalk {
    endpoint: String,
    page_size: u32,
    declared: Option<u64>,
    next_page: u32,
    received: u64,
    done: bool,
    guard: RepeatGuard,
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
            guard: RepeatGuard::default(),
        }
    }

    /// The rows a page holds: what was asked, or the server's own size once a short
    /// first page showed it.
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

    /// Records a page of `rows` rows whose first and last rows have `keys`; fails when
    /// the page repeats the one before it, or the list turns out shorter or longer than
    /// declared. A first page shorter than asked while the count says more is the
    /// server's page size: the walk goes on in pages of that size.
    pub fn record(&mut self, rows: usize, keys: PageKeys<'_>) -> Result<(), ConnectorError> {
        if !self.guard.check(keys) {
            self.done = true;
            return Err(repeated(&self.endpoint, format!("page {}", self.next_page)));
        }
        let first = self.next_page == 1;
        self.received += rows as u64;
        self.next_page += 1;
        let short = (rows as u64) < u64::from(self.page_size);
        match self.declared {
            Some(declared) if self.received > declared => return Err(self.incomplete(declared)),
            Some(declared) if self.received == declared => self.done = true,
            Some(_) if short && first && rows > 0 => self.page_size = rows as u32,
            Some(declared) if short => return Err(self.incomplete(declared)),
            _ => self.done = short,
        }
        Ok(())
    }

    /// Checks a count taken again at the end of the walk: a list that changed while it
    /// was read is refused rather than taken as whole.
    pub fn recount(&mut self, now: u64) -> Result<(), ConnectorError> {
        match self.declared {
            Some(declared) if declared != now => Err(broken(
                &self.endpoint,
                format!("the count changed from {declared} to {now} during the pull"),
            )),
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
    pages: u64,
    guard: RepeatGuard,
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
            pages: 0,
            guard: RepeatGuard::default(),
        }
    }

    /// The rows asked for a page; the server may send fewer.
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

    /// Records a page of `rows` rows whose first and last rows have `keys`, and the
    /// cursor the source gave for the next one (`None` at the end). A page shorter than
    /// asked is not the end while a cursor says more. Refuses a cursor seen before and a
    /// page that repeats the one before it.
    pub fn record(
        &mut self,
        rows: usize,
        keys: PageKeys<'_>,
        next: Option<String>,
    ) -> Result<(), ConnectorError> {
        self.started = true;
        self.pages += 1;
        if !self.guard.check(keys) {
            self.done = true;
            return Err(repeated(&self.endpoint, format!("page {}", self.pages)));
        }
        self.received += rows as u64;
        match next {
            None => {
                self.done = true;
                self.next = None;
                Ok(())
            }
            Some(cursor) if !self.seen.insert(cursor.clone()) => {
                self.done = true;
                Err(broken(
                    &self.endpoint,
                    format!("the cursor {cursor:?} came back a second time"),
                ))
            }
            Some(cursor) => {
                self.next = Some(cursor);
                Ok(())
            }
        }
    }
}

/// What one answer of an offset walk said about the list beyond its rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OffsetSignals {
    /// The total the answer declared (`X-Total-Count`), if any.
    pub total: Option<u64>,
    /// Whether the answer carried a `Link: rel="next"`.
    pub next_link: bool,
}

/// A `limit`/`offset` walk to a declared total (`X-Total-Count`), along `next` links, or
/// to the first empty page.
#[derive(Debug, Clone)]
pub struct OffsetWalk {
    endpoint: String,
    limit: u32,
    declared: Option<u64>,
    offset: u64,
    done: bool,
    /// The server has sent a `next` link: its last page is the one without.
    linked: bool,
    guard: RepeatGuard,
}

impl OffsetWalk {
    pub fn new(endpoint: impl Into<String>, limit: u32) -> Self {
        OffsetWalk {
            endpoint: endpoint.into(),
            limit: limit.max(1),
            declared: None,
            offset: 0,
            done: false,
            linked: false,
            guard: RepeatGuard::default(),
        }
    }

    /// The rows asked for a page; the server may send fewer.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Asks for smaller pages from now on (a server answering 502 to a page too heavy
    /// to build); `false` when the pages are as small as they go.
    pub fn shrink(&mut self, floor: u32) -> bool {
        if self.limit <= floor.max(1) {
            return false;
        }
        self.limit = (self.limit / 2).max(floor.max(1));
        true
    }

    /// The offset to fetch next, or `None` when the list is read.
    pub fn next_offset(&self) -> Option<u64> {
        (!self.done).then_some(self.offset)
    }

    pub fn received(&self) -> u64 {
        self.offset
    }

    /// Records a page of `rows` rows whose first and last rows have `keys`, with what
    /// the answer said of the rest. The next page starts after the rows that came,
    /// whatever `limit` asked.
    pub fn record(
        &mut self,
        rows: usize,
        keys: PageKeys<'_>,
        signals: OffsetSignals,
    ) -> Result<(), ConnectorError> {
        let fail = |this: &mut Self, e: ConnectorError| {
            this.done = true;
            Err(e)
        };
        if let Some(total) = signals.total {
            match self.declared {
                Some(declared) if declared != total => {
                    let e = broken(
                        &self.endpoint,
                        format!("the total changed from {declared} to {total} during the pull"),
                    );
                    return fail(self, e);
                }
                _ => self.declared = Some(total),
            }
        }
        if !self.guard.check(keys) {
            let e = repeated(
                &self.endpoint,
                format!("the page at offset {}", self.offset),
            );
            return fail(self, e);
        }
        self.offset += rows as u64;
        match self.declared {
            Some(declared) if self.offset == declared => self.done = true,
            Some(declared) if self.offset > declared || rows == 0 => {
                let e = ConnectorError::Incomplete {
                    endpoint: self.endpoint.clone(),
                    declared,
                    received: self.offset,
                };
                return fail(self, e);
            }
            Some(_) => {}
            // No total: a server that links its pages ends where the `next` link does;
            // one that sends neither ends at an empty page (a short page may be the
            // server's own page size).
            None if signals.next_link => self.linked = true,
            None => self.done = self.linked || rows == 0,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys of a page of rows named `a..`: the page at `start` of `n` rows.
    fn k(start: usize, n: usize) -> Option<(String, String)> {
        (n > 0).then(|| (format!("r{start:05}"), format!("r{:05}", start + n - 1)))
    }

    fn keys(k: &Option<(String, String)>) -> PageKeys<'_> {
        k.as_ref().map(|(a, b)| (a.as_str(), b.as_str()))
    }

    #[test]
    fn a_page_walk_refuses_a_repeated_page_and_a_count_that_changed() {
        let mut w = PageWalk::new("GET /list", 2, Some(6));
        w.record(2, keys(&k(0, 2))).expect("page 1");
        let err = w
            .record(2, keys(&k(0, 2)))
            .expect_err("page 2 repeats page 1");
        assert!(err.to_string().contains("repeats"), "{err}");
        assert_eq!(w.next_page(), None);

        let mut w = PageWalk::new("GET /list", 2, Some(4));
        w.record(2, keys(&k(0, 2))).expect("page 1");
        w.record(2, keys(&k(2, 2))).expect("page 2");
        let err = w.recount(5).expect_err("the count moved");
        assert!(err.to_string().contains("from 4 to 5"), "{err}");
        assert!(w.recount(4).is_ok());
    }

    #[test]
    fn a_page_walk_takes_a_short_first_page_as_the_servers_page_size() {
        // Asked 500 a page, the server sends 200: 450 rows come in three pages.
        let mut w = PageWalk::new("GET /list", 500, Some(450));
        w.record(200, keys(&k(0, 200))).expect("page 1, capped");
        assert_eq!((w.next_page(), w.page_size()), (Some(2), 200));
        w.record(200, keys(&k(200, 200))).expect("page 2");
        w.record(50, keys(&k(400, 50))).expect("page 3, the last");
        assert_eq!(w.next_page(), None);
        assert_eq!(w.received(), 450);
    }

    #[test]
    fn a_page_walk_refuses_a_short_page_after_the_first() {
        let mut w = PageWalk::new("GET /list", 500, Some(450));
        w.record(200, keys(&k(0, 200))).expect("page 1, capped");
        let err = w.record(100, keys(&k(200, 100))).expect_err("lost rows");
        assert!(matches!(
            err,
            ConnectorError::Incomplete {
                declared: 450,
                received: 300,
                ..
            }
        ));
    }

    #[test]
    fn a_cursor_walk_follows_next_to_the_end() {
        let mut w = CursorWalk::new("GET /users", 2);
        assert_eq!(w.next(), Some(CursorStep::First));
        w.record(2, keys(&k(0, 2)), Some("c1".into()))
            .expect("page 1");
        assert_eq!(w.next(), Some(CursorStep::After("c1")));
        w.record(1, keys(&k(2, 1)), None)
            .expect("a short last page ends it");
        assert_eq!(w.next(), None);
        assert_eq!(w.received(), 3);
    }

    #[test]
    fn a_cursor_walk_follows_a_short_page_that_carries_a_next_link() {
        // Asked 10,000 a page; the server sends 3 and says there is more.
        let mut w = CursorWalk::new("GET /users", 10_000);
        w.record(3, keys(&k(0, 3)), Some("c1".into()))
            .expect("a capped page");
        w.record(3, keys(&k(3, 3)), Some("c2".into()))
            .expect("another");
        w.record(1, keys(&k(6, 1)), None).expect("the last");
        assert_eq!((w.next(), w.received()), (None, 7));
    }

    #[test]
    fn a_cursor_walk_refuses_a_repeated_cursor_or_page() {
        let mut w = CursorWalk::new("GET /users", 2);
        w.record(2, keys(&k(0, 2)), Some("c1".into()))
            .expect("page 1");
        w.record(2, keys(&k(2, 2)), Some("c2".into()))
            .expect("page 2");
        let err = w
            .record(2, keys(&k(4, 2)), Some("c1".into()))
            .expect_err("a loop");
        assert!(matches!(err, ConnectorError::BrokenPaging { .. }), "{err}");
        assert_eq!(w.next(), None);

        let mut w = CursorWalk::new("GET /users", 2);
        w.record(2, keys(&k(0, 2)), Some("c1".into()))
            .expect("page 1");
        let err = w
            .record(2, keys(&k(0, 2)), Some("c2".into()))
            .expect_err("the same page under a new cursor");
        assert!(err.to_string().contains("repeats"), "{err}");
    }

    #[test]
    fn an_offset_walk_reads_to_the_declared_total() {
        let total = OffsetSignals {
            total: Some(5),
            next_link: true,
        };
        let mut w = OffsetWalk::new("GET /users", 2);
        assert_eq!(w.next_offset(), Some(0));
        w.record(2, keys(&k(0, 2)), total).expect("0..2");
        assert_eq!(w.next_offset(), Some(2));
        w.record(2, keys(&k(2, 2)), total).expect("2..4");
        w.record(1, keys(&k(4, 1)), total).expect("4..5");
        assert_eq!(w.next_offset(), None);
    }

    #[test]
    fn an_offset_walk_goes_on_after_a_page_the_server_capped() {
        // Asked 10,000; the server sends 3 a page while its total says 8.
        let total = OffsetSignals {
            total: Some(8),
            next_link: true,
        };
        let mut w = OffsetWalk::new("GET /users", 10_000);
        w.record(3, keys(&k(0, 3)), total).expect("0..3");
        assert_eq!(w.next_offset(), Some(3));
        w.record(3, keys(&k(3, 3)), total).expect("3..6");
        w.record(2, keys(&k(6, 2)), total).expect("6..8");
        assert_eq!((w.next_offset(), w.received()), (None, 8));
    }

    #[test]
    fn an_offset_walk_refuses_an_empty_page_before_the_total() {
        let total = OffsetSignals {
            total: Some(6),
            next_link: false,
        };
        let mut w = OffsetWalk::new("GET /users", 2);
        w.record(2, keys(&k(0, 2)), total).expect("0..2");
        let err = w
            .record(0, None, total)
            .expect_err("the rows ran out before the total");
        assert!(matches!(
            err,
            ConnectorError::Incomplete {
                declared: 6,
                received: 2,
                ..
            }
        ));
    }

    #[test]
    fn an_offset_walk_refuses_a_walk_longer_than_its_total() {
        let total = OffsetSignals {
            total: Some(3),
            next_link: false,
        };
        let mut w = OffsetWalk::new("GET /users", 2);
        w.record(2, keys(&k(0, 2)), total).expect("0..2");
        let err = w.record(2, keys(&k(2, 2)), total).expect_err("4 of 3");
        assert!(matches!(
            err,
            ConnectorError::Incomplete {
                declared: 3,
                received: 4,
                ..
            }
        ));
    }

    #[test]
    fn an_offset_walk_refuses_a_total_that_changes_mid_pull() {
        let mut w = OffsetWalk::new("GET /users", 2);
        let signals = |n| OffsetSignals {
            total: Some(n),
            next_link: true,
        };
        w.record(2, keys(&k(0, 2)), signals(6)).expect("0..2");
        let err = w
            .record(2, keys(&k(2, 2)), signals(7))
            .expect_err("the total moved");
        assert!(err.to_string().contains("from 6 to 7"), "{err}");
        assert_eq!(w.next_offset(), None);
    }

    #[test]
    fn an_offset_walk_without_signals_reads_to_an_empty_page() {
        let none = OffsetSignals::default();
        let mut w = OffsetWalk::new("GET /users", 10);
        w.record(3, keys(&k(0, 3)), none)
            .expect("a short page is not surely the end");
        assert_eq!(w.next_offset(), Some(3));
        w.record(3, keys(&k(3, 3)), none).expect("3..6");
        w.record(0, None, none).expect("the end");
        assert_eq!((w.next_offset(), w.received()), (None, 6));
    }

    #[test]
    fn an_offset_walk_along_links_ends_where_the_links_do() {
        let more = OffsetSignals {
            total: None,
            next_link: true,
        };
        let mut w = OffsetWalk::new("GET /users", 10);
        w.record(3, keys(&k(0, 3)), more).expect("0..3");
        w.record(2, keys(&k(3, 2)), OffsetSignals::default())
            .expect("no next link: the end");
        assert_eq!((w.next_offset(), w.received()), (None, 5));
    }

    #[test]
    fn an_offset_walk_refuses_a_server_that_ignores_offset() {
        let none = OffsetSignals::default();
        let mut w = OffsetWalk::new("GET /users", 3);
        w.record(3, keys(&k(0, 3)), none).expect("page 1");
        let err = w
            .record(3, keys(&k(0, 3)), none)
            .expect_err("the same page again");
        assert!(matches!(err, ConnectorError::BrokenPaging { .. }), "{err}");
        assert_eq!(w.next_offset(), None);
    }

    #[test]
    fn an_offset_walk_shrinks_its_pages_to_a_floor() {
        let mut w = OffsetWalk::new("GET /users", 1000);
        assert!(w.shrink(200));
        assert_eq!(w.limit(), 500);
        assert!(w.shrink(200));
        assert_eq!(w.limit(), 250);
        assert!(w.shrink(200));
        assert_eq!(w.limit(), 200);
        assert!(!w.shrink(200));
    }

    fn walk(
        sizes: &[usize],
        page_size: u32,
        declared: Option<u64>,
    ) -> (Vec<u32>, Result<u64, ConnectorError>) {
        let mut w = PageWalk::new("GET /list", page_size, declared);
        let mut pages = Vec::new();
        let mut at = 0;
        for &n in sizes {
            let Some(p) = w.next_page() else { break };
            pages.push(p);
            let page = k(at, n);
            at += n;
            if let Err(e) = w.record(n, keys(&page)) {
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
