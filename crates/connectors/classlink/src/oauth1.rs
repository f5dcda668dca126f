//! OAuth 1.0a request signing as ClassLink's OneRoster 1.1 endpoints take it (reference
//! §2.1): two-legged, HMAC-SHA256, a fresh nonce and timestamp on every attempt — a
//! retried request is signed again, never replayed — and the query string left on the URL.
//!
//! The signature is RFC 5849's: the base string is the method, the normalised URL and the
//! sorted, RFC 3986-encoded parameters (query and `oauth_*`), the key the encoded secrets
//! joined by `&`. HMAC comes from the RustCrypto `hmac`, `sha2` and `sha1` crates.

use base64::Engine as _;
use connector::http::Signer;
use connector::ConnectorError;
use hmac::{Hmac, Mac};
use model::Secret;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::Method;

/// The signature method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureMethod {
    /// What ClassLink's libraries send.
    HmacSha256,
    /// RFC 5849's original method, kept for its published test vectors.
    HmacSha1,
}

impl SignatureMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureMethod::HmacSha256 => "HMAC-SHA256",
            SignatureMethod::HmacSha1 => "HMAC-SHA1",
        }
    }
}

/// RFC 3986 percent-encoding: everything but `A-Z a-z 0-9 - . _ ~`.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The URL as the base string takes it: scheme and host lower-case, the port only when it
/// is not the scheme's default, the path, no query.
fn base_url(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    // `url` already drops a port that is the scheme's default.
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!("{}://{host}{port}{}", url.scheme(), url.path())
}

/// The signature base string of a request with these `oauth_*` parameters.
pub fn base_string(method: &str, url: &url::Url, oauth: &[(&str, &str)]) -> String {
    let mut params: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (encode(&k), encode(&v)))
        .chain(oauth.iter().map(|(k, v)| (encode(k), encode(v))))
        .collect();
    params.sort();
    let joined = params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        encode(&base_url(url)),
        encode(&joined)
    )
}

/// `base64(HMAC(encode(consumer secret) & encode(token secret), base string))`.
pub fn signature(
    base: &str,
    consumer_secret: &str,
    token_secret: &str,
    method: SignatureMethod,
) -> String {
    let key = format!("{}&{}", encode(consumer_secret), encode(token_secret));
    let digest = match method {
        SignatureMethod::HmacSha256 => {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes())
                .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
            mac.update(base.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        SignatureMethod::HmacSha1 => {
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes())
                .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
            mac.update(base.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    };
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// Signs every attempt with the district's OAuth key and secret.
pub struct OAuth1Signer {
    key: String,
    secret: Secret,
}

impl std::fmt::Debug for OAuth1Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth1Signer")
            .field("key", &self.key)
            .finish()
    }
}

impl OAuth1Signer {
    pub fn new(key: impl Into<String>, secret: Secret) -> Self {
        OAuth1Signer {
            key: key.into(),
            secret,
        }
    }

    /// The `Authorization` value for one attempt at `timestamp` with `nonce`.
    pub fn authorization(
        &self,
        method: &str,
        url: &url::Url,
        timestamp: u64,
        nonce: &str,
    ) -> String {
        let timestamp = timestamp.to_string();
        let method_name = SignatureMethod::HmacSha256.as_str();
        let oauth = [
            ("oauth_consumer_key", self.key.as_str()),
            ("oauth_nonce", nonce),
            ("oauth_signature_method", method_name),
            ("oauth_timestamp", timestamp.as_str()),
        ];
        let base = base_string(method, url, &oauth);
        let sig = signature(&base, self.secret.expose(), "", SignatureMethod::HmacSha256);
        format!(
            "OAuth oauth_consumer_key=\"{}\",oauth_signature_method=\"{method_name}\",oauth_timestamp=\"{timestamp}\",oauth_nonce=\"{}\",oauth_signature=\"{}\"",
            encode(&self.key),
            encode(nonce),
            encode(&sig)
        )
    }
}

/// Ten random letters and digits, as ClassLink's libraries make them.
fn nonce() -> String {
    let mut rng = fastrand::Rng::new();
    (0..10).map(|_| rng.alphanumeric()).collect()
}

impl Signer for OAuth1Signer {
    fn sign(
        &self,
        method: &Method,
        url: &url::Url,
        headers: &mut HeaderMap,
    ) -> Result<(), ConnectorError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let value = self.authorization(method.as_str(), url, now, &nonce());
        let mut value = HeaderValue::from_str(&value).map_err(|_| ConnectorError::Malformed {
            endpoint: format!("{method} {}", url.path()),
            reason: "the OAuth header could not be built".into(),
        })?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OAuth Core 1.0, Appendix A.5 (the vector RFC 5849's examples follow): GET
    /// photos.example.net/photos with a token, HMAC-SHA1.
    #[test]
    fn the_published_vector_signs_exactly() {
        let url =
            url::Url::parse("http://photos.example.net/photos?file=vacation.jpg&size=original")
                .expect("url");
        let oauth = [
            ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
            ("oauth_token", "nnch734d00sl2jdk"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1191242096"),
            ("oauth_nonce", "kllo9940pd9333jh"),
            ("oauth_version", "1.0"),
        ];
        let base = base_string("GET", &url, &oauth);
        assert_eq!(
            base,
            "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3Dkllo9940pd9333jh%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1191242096%26oauth_token%3Dnnch734d00sl2jdk%26oauth_version%3D1.0%26size%3Doriginal"
        );
        assert_eq!(
            signature(
                &base,
                "kd94hf93k423kf44",
                "pfkkdhi9sl3r4s00",
                SignatureMethod::HmacSha1
            ),
            "tR3+Ty81lMeYAr/Fid0kMTYa/WM="
        );
    }

    #[test]
    fn query_values_are_encoded_with_rfc_3986_and_ports_kept_when_not_default() {
        let url = url::Url::parse(
            "https://Example-VN-v2.OneRoster.com:8443/ims/oneroster/v1p1/users?filter=role%3D%27student%27&limit=100",
        )
        .expect("url");
        let base = base_string("get", &url, &[("oauth_nonce", "a b")]);
        assert!(base.starts_with(
            "GET&https%3A%2F%2Fexample-vn-v2.oneroster.com%3A8443%2Fims%2Foneroster%2Fv1p1%2Fusers&"
        ), "{base}");
        assert!(
            base.contains("filter%3Drole%253D%2527student%2527"),
            "{base}"
        );
        assert!(
            base.contains("oauth_nonce%3Da%2520b"),
            "space is %20, never +: {base}"
        );
        let default = url::Url::parse("https://h.example:443/p").expect("url");
        assert!(base_string("GET", &default, &[]).starts_with("GET&https%3A%2F%2Fh.example%2Fp&"));
    }

    #[test]
    fn every_attempt_gets_a_fresh_nonce_and_a_verifiable_signature() {
        let signer = OAuth1Signer::new("key", Secret::new("secret"));
        let url =
            url::Url::parse("https://h.example/ims/oneroster/v1p1/orgs?limit=1").expect("url");
        let mut first = HeaderMap::new();
        let mut second = HeaderMap::new();
        signer.sign(&Method::GET, &url, &mut first).expect("signed");
        signer
            .sign(&Method::GET, &url, &mut second)
            .expect("signed");
        assert_ne!(
            first[AUTHORIZATION], second[AUTHORIZATION],
            "a fresh nonce each time"
        );
        // Recomputed from the header's own nonce and timestamp, the signature matches.
        let header = signer.authorization("GET", &url, 1_767_225_600, "aB3dE5fG7h");
        let base = base_string(
            "GET",
            &url,
            &[
                ("oauth_consumer_key", "key"),
                ("oauth_nonce", "aB3dE5fG7h"),
                ("oauth_signature_method", "HMAC-SHA256"),
                ("oauth_timestamp", "1767225600"),
            ],
        );
        let expected = encode(&signature(&base, "secret", "", SignatureMethod::HmacSha256));
        assert!(
            header.contains(&format!("oauth_signature=\"{expected}\"")),
            "{header}"
        );
        assert!(!format!("{signer:?}").contains("secret"));
    }
}
