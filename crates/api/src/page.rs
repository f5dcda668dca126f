//! Page tokens and sizes, the same for every list.
//!
//! A token is opaque to callers: it carries the key of the last row of the page it ends
//! (pages are keyset-based, so rows added meanwhile shift nothing) and a check of the
//! request it answers (district, run, filters). A token from another request, or one this
//! server did not give, is `INVALID_ARGUMENT` naming `page_token`.

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
    fn page_sizes_have_a_default_and_a_maximum() {
        assert_eq!(size(0, 50, 500).ok(), Some(50));
        assert_eq!(size(7, 50, 500).ok(), Some(7));
        assert_eq!(size(10_000, 50, 500).ok(), Some(500));
        assert!(size(-1, 50, 500).is_err());
    }
}
