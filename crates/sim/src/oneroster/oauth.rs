//! Who may read the roster: OAuth 1.0a request signatures (two-legged, HMAC-SHA256 or
//! HMAC-SHA1, a timestamp window and single-use nonces) and OAuth 2 client-credentials
//! bearer tokens issued by `POST /oauth/token`. Written from OAuth Core 1.0 / RFC 5849
//! and the reference (§2), never from a connector.
//!
//! Owns the nonce memory and the issued tokens; the server asks [`Guard::check`] about
//! every roster request and records the nonce and refusal it answers.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hmac::{Hmac, Mac};

/// RFC 3986 percent-encoding: everything but ALPHA / DIGIT / `-._~` becomes `%XX`
/// (upper-case hex; a space is `%20`).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes (a `+` stays a `+`); bad escapes are kept as they are.
pub fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The signature base string: `METHOD&enc(url)&enc(k=v&…)` with every key and value
/// encoded, sorted by encoded key then value.
pub fn base_string(method: &str, url: &str, params: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> =
        params.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    encoded.sort();
    let joined = encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        encode(url),
        encode(&joined)
    )
}

/// `enc(consumer secret)&enc(token secret)`.
pub fn signing_key(consumer_secret: &str, token_secret: &str) -> String {
    format!("{}&{}", encode(consumer_secret), encode(token_secret))
}

/// The two signature methods accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureMethod {
    HmacSha1,
    HmacSha256,
}

impl SignatureMethod {
    pub fn parse(value: &str) -> Option<SignatureMethod> {
        match value {
            "HMAC-SHA1" => Some(SignatureMethod::HmacSha1),
            "HMAC-SHA256" => Some(SignatureMethod::HmacSha256),
            _ => None,
        }
    }
}

/// base64(HMAC(key, base)).
pub fn sign(method: SignatureMethod, key: &str, base: &str) -> String {
    let raw = match method {
        SignatureMethod::HmacSha1 => {
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes())
                .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
            mac.update(base.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        SignatureMethod::HmacSha256 => {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes())
                .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
            mac.update(base.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    };
    base64::engine::general_purpose::STANDARD.encode(raw)
}

/// The parameters of an `Authorization: OAuth k="v", …` header, decoded, in order.
pub fn parse_header(value: &str) -> Option<Vec<(String, String)>> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("oauth") {
        return None;
    }
    let mut params = Vec::new();
    for part in rest.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (k, v) = part.split_once('=')?;
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(v);
        params.push((decode(k.trim()), decode(v)));
    }
    Some(params)
}

/// What the server knows of the request being checked.
#[derive(Debug)]
pub struct Signed<'a> {
    pub method: &'a str,
    /// `http://HOST:PORT/path`, the path as received.
    pub url: String,
    /// The decoded query parameters.
    pub query: &'a [(String, String)],
}

/// The verdict on one request's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Who is asking (the consumer key or the token), for the rate limit.
    pub client: Option<String>,
    /// The OAuth1 nonce sent, if any.
    pub nonce: Option<String>,
    /// Why the request is refused; `None` when it may pass.
    pub refusal: Option<String>,
}

impl Verdict {
    fn refuse(nonce: Option<String>, why: &str) -> Verdict {
        Verdict {
            client: None,
            nonce,
            refusal: Some(why.to_owned()),
        }
    }
}

/// The credentials in force, the nonces seen and the tokens issued.
#[derive(Debug)]
pub struct Guard {
    pub client_id: String,
    pub client_secret: String,
    pub window: Duration,
    /// (consumer key, nonce) → unix seconds it was seen.
    nonces: HashMap<(String, String), u64>,
    /// token → when it was issued.
    tokens: HashMap<String, Instant>,
    /// Bearers accepted without being issued here (the discovery record's `bearer`).
    pub standing_bearers: Vec<String>,
    rng: fastrand::Rng,
}

/// How long an issued token lives.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

impl Guard {
    pub fn new(client_id: &str, client_secret: &str, window: Duration) -> Guard {
        Guard {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            window,
            nonces: HashMap::new(),
            tokens: HashMap::new(),
            standing_bearers: Vec::new(),
            rng: fastrand::Rng::new(),
        }
    }

    /// Replaces the secret: signatures made with the old one, and tokens issued under
    /// it, are refused from now on.
    pub fn rotate(&mut self, secret: &str) {
        self.client_secret = secret.to_owned();
        self.tokens.clear();
    }

    /// Issues a token to `id:secret`, or `None` when they are wrong.
    pub fn issue(&mut self, id: &str, secret: &str) -> Option<String> {
        if id != self.client_id || secret != self.client_secret {
            return None;
        }
        let token: String = (0..40)
            .map(|_| {
                let n = self.rng.u8(0..36);
                char::from_digit(u32::from(n), 36).unwrap_or('0')
            })
            .collect();
        self.tokens.insert(token.clone(), Instant::now());
        Some(token)
    }

    /// Checks the `Authorization` header of a roster request.
    pub fn check(&mut self, authorization: Option<&str>, request: &Signed<'_>) -> Verdict {
        let Some(value) = authorization.map(str::trim).filter(|v| !v.is_empty()) else {
            return Verdict::refuse(None, "missing credentials");
        };
        let scheme = value.split(' ').next().unwrap_or("");
        if scheme.eq_ignore_ascii_case("bearer") {
            return self.check_bearer(value[scheme.len()..].trim());
        }
        if scheme.eq_ignore_ascii_case("oauth") {
            return self.check_oauth1(value, request);
        }
        Verdict::refuse(None, "unsupported authorization scheme")
    }

    fn check_bearer(&mut self, token: &str) -> Verdict {
        let known = match self.tokens.get(token) {
            Some(issued) if issued.elapsed() <= TOKEN_LIFETIME => true,
            Some(_) => return Verdict::refuse(None, "expired token"),
            None => self.standing_bearers.iter().any(|b| b == token),
        };
        if !known || token.is_empty() {
            return Verdict::refuse(None, "invalid token");
        }
        Verdict {
            client: Some(token.to_owned()),
            nonce: None,
            refusal: None,
        }
    }

    fn check_oauth1(&mut self, header: &str, request: &Signed<'_>) -> Verdict {
        let Some(params) = parse_header(header) else {
            return Verdict::refuse(None, "malformed OAuth header");
        };
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let nonce = get("oauth_nonce").map(str::to_owned);
        if get("oauth_consumer_key") != Some(self.client_id.as_str()) {
            return Verdict::refuse(nonce, "unknown consumer key");
        }
        let Some(method) = get("oauth_signature_method").and_then(SignatureMethod::parse) else {
            return Verdict::refuse(nonce, "unsupported signature method");
        };
        let Some(nonce_value) = nonce.clone().filter(|n| !n.is_empty()) else {
            return Verdict::refuse(nonce, "missing nonce");
        };
        let now = unix_now();
        let fresh = get("oauth_timestamp")
            .and_then(|t| t.parse::<u64>().ok())
            .is_some_and(|t| t.abs_diff(now) <= self.window.as_secs());
        if !fresh {
            return Verdict::refuse(nonce, "stale timestamp");
        }
        let Some(sent) = get("oauth_signature") else {
            return Verdict::refuse(nonce, "missing signature");
        };
        let mut all: Vec<(String, String)> = request.query.to_vec();
        all.extend(
            params
                .iter()
                .filter(|(k, _)| k != "oauth_signature" && k != "realm")
                .cloned(),
        );
        let base = base_string(request.method, &request.url, &all);
        let expected = sign(method, &signing_key(&self.client_secret, ""), &base);
        if expected != sent {
            return Verdict::refuse(nonce, "invalid signature");
        }
        let window = self.window.as_secs();
        if self.nonces.len() > 4096 {
            self.nonces
                .retain(|_, seen| now.saturating_sub(*seen) <= window);
        }
        let key = (self.client_id.clone(), nonce_value);
        match self.nonces.get(&key) {
            Some(seen) if now.saturating_sub(*seen) <= window => {
                return Verdict::refuse(nonce, "nonce already used");
            }
            _ => {
                self.nonces.insert(key, now);
            }
        }
        Verdict {
            client: Some(self.client_id.clone()),
            nonce,
            refusal: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn oauth_core_appendix_a_signature_is_reproduced() {
        let params = pairs(&[
            ("file", "vacation.jpg"),
            ("size", "original"),
            ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
            ("oauth_token", "nnch734d00sl2jdk"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1191242096"),
            ("oauth_nonce", "kllo9940pd9333jh"),
            ("oauth_version", "1.0"),
        ]);
        let base = base_string("GET", "http://photos.example.net/photos", &params);
        assert_eq!(
            base,
            "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3Dkllo9940pd9333jh%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1191242096%26oauth_token%3Dnnch734d00sl2jdk%26oauth_version%3D1.0%26size%3Doriginal"
        );
        // The token secret of OAuth Core 1.0 Appendix A is `pfkkdhi9sl3r4s00`.
        let key = signing_key("kd94hf93k423kf44", "pfkkdhi9sl3r4s00");
        assert_eq!(
            sign(SignatureMethod::HmacSha1, &key, &base),
            "tR3+Ty81lMeYAr/Fid0kMTYa/WM="
        );
    }

    #[test]
    fn encoding_is_rfc3986() {
        assert_eq!(encode("a b+c/~._-é"), "a%20b%2Bc%2F~._-%C3%A9");
        assert_eq!(decode("a%20b+c%2F%zz%4"), "a b+c/%zz%4");
    }

    #[test]
    fn the_header_is_parsed_and_decoded() {
        let params =
            parse_header(r#"OAuth realm="x", oauth_consumer_key="k",oauth_signature="a%2Bb%3D""#)
                .expect("header");
        assert_eq!(
            params,
            pairs(&[
                ("realm", "x"),
                ("oauth_consumer_key", "k"),
                ("oauth_signature", "a+b=")
            ])
        );
    }
}
