//! Loopback simulators of the district sources, written from the public documentation
//! (`shared/reference/`), never from the connectors' code.
//!
//! Will own: an HTTP server on any loopback port per source — PowerSchool first (plugin
//! OAuth token, `/ws/v1` resources, table access, PowerQueries, paging and its quirks),
//! then Clever and OneRoster — serving a district generated deterministically from a seed
//! and a size, with every case of seed 001 present, and per-test fault injection (401,
//! 429 with Retry-After, 500, slow and dropped responses, malformed JSON, short pages).
//!
//! Must never: import a connector crate (a simulator that shared wire structs with the
//! connector would be wrong in the same way twice), or listen beyond loopback.
