//! Page tokens, sizes and byte budgets, the same for every list.
//!
//! A token is opaque to callers: it carries the key of the last row of the page it ends
//! (pages are keyset-based, so rows added meanwhile shift nothing) and a check of the
//! request it answers (district, run, filters). A token from another request, or one this
//! server did not give, is `INVALID_ARGUMENT` naming `page_token`.
//!
//! A page ends at its size or before its answer would pass [`MAX_ANSWER_BYTES`],
//! whichever comes first, so no answer outgrows what a client accepts (4 MB by default)
//! whatever the rows hold.

use base64::Engine as _;
use sha2::{Digest, Sha256};
use tonic::Status;

const ENGINE: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn check(request: &str, key: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"rostersync page token v1\0");
    h.update(request.as_bytes());
    h.update(b"\0");
    h.update(key.as_bytes());
    hex(&h.finalize()[..8])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The token that continues after `key` for the request `request` describes.
pub fn token(request: &str, key: &str) -> String {
    ENGINE.encode(format!("{}.{key}", check(request, key)))
}

/// The key a token continues after, or `None` for the first page.
pub fn after(token: &str, request: &str) -> Result<Option<String>, Status> {
    after_named(token, request, "page_token")
}

/// As [`after`], for a token the request carries in field `field`.
pub fn after_named(token: &str, request: &str, field: &str) -> Result<Option<String>, Status> {
    if token.is_empty() {
        return Ok(None);
    }
    model::limits::text(field, token, model::limits::PAGE_TOKEN)
        .map_err(crate::status::invalid_field)?;
    let refused = || {
        Status::invalid_argument(format!(
            "{field}: is not a token this server gave for this request (same district, run and filters)"
        ))
    };
    let raw = ENGINE.decode(token).map_err(|_| refused())?;
    let raw = String::from_utf8(raw).map_err(|_| refused())?;
    let (sum, key) = raw.split_once('.').ok_or_else(refused)?;
    if sum != check(request, key) {
        return Err(refused());
    }
    Ok(Some(key.to_owned()))
}

/// A page size: 0 (unset) is `default`, more than `max` is `max`, negative is refused.
pub fn size(page_size: i32, default: u64, max: u64) -> Result<u64, Status> {
    match page_size {
        n if n < 0 => Err(Status::invalid_argument(format!(
            "page_size: {n} is negative; give 1 to {max}, or 0 for {default}"
        ))),
        0 => Ok(default),
        n => Ok((n as u64).min(max)),
    }
}

/// The most bytes the rows of one list answer take, encoded.
pub const MAX_ANSWER_BYTES: usize = 1 << 20;

/// How many of `rows` one answer carries, and whether a next page remains. `rows` is a
/// page read with one row more than `size` when the store had it: the answer takes at
/// most `size` of them, and stops before their encoding would pass
/// [`MAX_ANSWER_BYTES`] (never before the first, so a list always moves on).
pub fn fit<T: prost::Message>(rows: &[T], size: u64) -> (usize, bool) {
    let mut bytes = 0;
    let mut n = 0;
    for row in rows
        .iter()
        .take(usize::try_from(size).unwrap_or(usize::MAX))
    {
        let len = row.encoded_len();
        // As a repeated field: a tag, a length and the row.
        let framed = 1 + prost::length_delimiter_len(len) + len;
        if n > 0 && bytes + framed > MAX_ANSWER_BYTES {
            break;
        }
        bytes += framed;
        n += 1;
    }
    (n, n < rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_continues_its_own_request_only() {
        let t = token("district=cbe", "2026-11-24T09:00:00.000001Z|abc");
        assert_eq!(
            after(&t, "district=cbe").ok().flatten().as_deref(),
            Some("2026-11-24T09:00:00.000001Z|abc")
        );
        for (tok, req) in [
            (t.as_str(), "district=other"),
            ("garbage", "district=cbe"),
            ("+5", "district=cbe"),
            ("", "district=cbe"),
        ] {
            match after(tok, req) {
                Ok(None) => assert!(tok.is_empty()),
                Ok(Some(k)) => panic!("{tok:?} for {req:?} gave {k:?}"),
                Err(s) => {
                    assert_eq!(s.code(), tonic::Code::InvalidArgument);
                    assert!(s.message().starts_with("page_token"));
                }
            }
        }
        // A token whose key was edited is refused too.
        let edited = ENGINE.encode(format!("{}.other-key", check("district=cbe", "k")));
        assert!(after(&edited, "district=cbe").is_err());
    }

    #[test]
    fn a_page_stops_at_its_size_or_its_byte_budget() {
        let small: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        assert_eq!(fit(&small, 20), (10, false));
        assert_eq!(fit(&small, 9), (9, true));
        let big = vec!["x".repeat(300_000); 10];
        let (n, more) = fit(&big, 1000);
        assert_eq!(
            (n, more),
            (3, true),
            "three rows of 300 KB fit in 1 MiB, not four"
        );
        let huge = vec!["x".repeat(2 * MAX_ANSWER_BYTES); 2];
        assert_eq!(fit(&huge, 1000), (1, true), "a page holds at least one row");
    }

    #[test]
    fn a_long_token_is_refused_by_its_length() {
        let long = "A".repeat(3_000_000);
        let err = after(&long, "districts").expect_err("refused");
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
        assert!(
            err.message()
                .starts_with("page_token: is 3000000 characters long; at most 512"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn page_sizes_have_a_default_and_a_maximum() {
        assert_eq!(size(0, 50, 500).ok(), Some(50));
        assert_eq!(size(7, 50, 500).ok(), Some(7));
        assert_eq!(size(10_000, 50, 500).ok(), Some(500));
        assert!(size(-1, 50, 500).is_err());
    }
}
