//! Walking a paged list to its documented end and proving it whole.
//!
//! A list is read page by page (1-based) until a page comes back shorter than the page
//! size or, when the source declared a count, until that many rows arrived. A list that
//! ends before its declared count — a lost page, a short page in the middle — or runs past
//! it is an [`ConnectorError::Incomplete`], never a silently shorter roster.

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

    fn incomplete(&mut self, declared: u64) -> ConnectorError {
        self.done = true;
        ConnectorError::Incomplete {
            endpoint: self.endpoint.clone(),
            declared,
            received: self.received,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
