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

    /// The page size the walk takes once a first page of `rows` rows came: the server's
    /// own, when that page is shorter than asked while the count says more. Lets a
    /// caller fetch page 1 alone and the rest at once.
    pub fn page_size_after_first(&self, rows: usize) -> u32 {
        let more = self.declared.is_some_and(|d| (rows as u64) < d);
        if more && rows > 0 && (rows as u64) < u64::from(self.page_size) {
            rows as u32
        } else {
            self.page_size
        }
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
            Some(_) if short && first && rows > 0 => {
                self.page_size = self.page_size_after_first(rows)
            }
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
mod tests;
