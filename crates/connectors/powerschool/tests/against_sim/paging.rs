//! The server decides the page size (SPEC §2c): a server that caps every page below the
//! size asked, and below what its metadata advertises, is still read whole.

use super::*;

/// Which requests are of one kind of list, by path.
type PathTest = fn(&str) -> bool;

#[tokio::test]
async fn a_server_capping_every_page_below_the_size_asked_is_read_whole() {
    let sim = Simulator::start(SimConfig {
        page_cap: Some(2),
        // More than two staff at a school.
        students: 200,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let pulled = pull(connector(&sim).as_ref()).await.expect("pull");
    assert_matches_truth(&sim, &pulled);
    // The connector asked its own size first and the server's after; every kind of
    // list went past its first capped page.
    let requests = sim.requests();
    let asked = |path: PathTest, size: &str| {
        requests.iter().any(|r| {
            path(&r.path) && r.status == 200 && r.query.contains(&format!("pagesize={size}&page=2"))
        })
    };
    // (A school's two sections fit one capped page here; they are walked as staff are.)
    let kinds: [(&str, PathTest); 5] = [
        ("students", |p| p.ends_with("/student")),
        ("staff", |p| p.ends_with("/staff")),
        ("enrollments", |p| p.ends_with("/section_enrollment")),
        ("tables", |p| p.starts_with("/ws/schema/table/")),
        ("guardian query", |p| p.starts_with("/ws/schema/query/")),
    ];
    for (kind, path) in kinds {
        assert!(asked(path, "2"), "{kind}: page 2 in the server's size");
    }
    assert!(
        requests.iter().any(|r| r.path.ends_with("/student")
            && r.query.contains(&format!("pagesize={PAGE_SIZE}&page=1"))),
        "page 1 asked in the connector's size"
    );
}
