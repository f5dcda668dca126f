//! Loopback simulators of the district sources, written from the public documentation
//! (`shared/reference/`), never from the connectors' code.
//!
//! Owns: [`powerschool`] — a district generated deterministically from a seed and sizes
//! (schools, families of students sharing contacts, portal accounts) holding every edge
//! case of seed 001 ([`powerschool::Cases`]); the ground truth a correct connector yields
//! from it, computed from the tables rather than the JSON; and an HTTP server on a
//! loopback port speaking PowerSchool's wire format (plugin OAuth token, `/ws/v1`
//! resources, table access, the `student_guardian_detail` PowerQuery, paging and its
//! quirks, plugin grants) with per-test fault injection (401, 429 with Retry-After, 500,
//! slow and dropped responses, malformed JSON, short pages) and a log of every request.
//! [`clever`] — a Clever district generated the same way (students, contacts with
//! per-student relationships, teachers, staff, sections) holding the edge cases of seed
//! 004 and Clever's id behaviours ([`clever::Cases`]), served as the Data API v3.0 / v3.1
//! (bearer token, cursor paging with `starting_after`, the per-token rate limit and its
//! headers) with the same fault injection (plus HTML error bodies) and request log.
//! [`oneroster`] — a ClassLink Roster Server district (orgs, sessions, courses, classes,
//! enrollments, students, teachers, administrators and guardians tied by `agents`) holding
//! the edge cases of [`oneroster::Cases`], served as OneRoster 1.1 and 1.2 at once (OAuth
//! 1.0a signatures or OAuth 2 bearer tokens, ClassLink's discovery API, `limit`/`offset`
//! paging with `X-Total-Count` and `Link`, `filter`/`sort`/`fields`, the status-info error
//! envelope) with the same fault injection and request log.
//!
//! What the three share — serving on a loopback port and stopping, the fault queue, the
//! request log, generated names — is [`kit`].
//!
//! Must never: import a connector crate (a simulator that shared wire structs with the
//! connector would be wrong in the same way twice), listen beyond loopback, or hold a
//! lock across an await.
//!
//! Start reading at [`powerschool::Simulator`] and [`powerschool::District::generate`],
//! [`clever::Simulator`] and [`clever::District::generate`], or [`oneroster::Simulator`]
//! and [`oneroster::District::generate`].

pub mod clever;
pub mod kit;
pub mod oneroster;
pub mod powerschool;
