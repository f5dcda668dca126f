//! The walkers against pages as real servers send them.

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
