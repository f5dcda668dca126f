//! A OneRoster client over the raw HTTP client of [`super`]: OAuth 1.0a signed requests
//! (with a signing that can be spoiled on purpose), query strings, and readers of the
//! answers' ids, `imsx` code minors and `Link` headers.

use std::time::{SystemTime, UNIX_EPOCH};

use rostersync_sim::oneroster::oauth::{base_string, encode, sign, signing_key, SignatureMethod};
use rostersync_sim::oneroster::{OneRosterSimConfig, Simulator};
use serde_json::Value;

use super::{send, HttpResponse};

pub const V11: &str = "/ims/oneroster/v1p1";
pub const V12: &str = "/ims/oneroster/rostering/v1p2";

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// How to sign one request.
pub struct Signing<'a> {
    pub key: &'a str,
    pub secret: &'a str,
    pub nonce: String,
    pub timestamp: u64,
    pub method: SignatureMethod,
}

pub fn signing<'a>(sim: &'a Simulator, nonce: &str) -> Signing<'a> {
    Signing {
        key: &sim.config().client_id,
        secret: &sim.config().client_secret,
        nonce: nonce.to_owned(),
        timestamp: now(),
        method: SignatureMethod::HmacSha256,
    }
}

/// The `Authorization: OAuth …` header for `GET target`.
pub fn oauth_header(sim: &Simulator, target: &str, s: &Signing<'_>) -> String {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let method_name = match s.method {
        SignatureMethod::HmacSha1 => "HMAC-SHA1",
        SignatureMethod::HmacSha256 => "HMAC-SHA256",
    };
    let oauth = [
        ("oauth_consumer_key".to_owned(), s.key.to_owned()),
        ("oauth_signature_method".to_owned(), method_name.to_owned()),
        ("oauth_timestamp".to_owned(), s.timestamp.to_string()),
        ("oauth_nonce".to_owned(), s.nonce.clone()),
    ];
    let mut params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    params.extend(oauth.iter().cloned());
    let base = base_string("GET", &format!("{}{path}", sim.base_url()), &params);
    let signature = sign(s.method, &signing_key(s.secret, ""), &base);
    let mut header = String::from("OAuth ");
    for (k, v) in oauth
        .iter()
        .chain([("oauth_signature".to_owned(), signature)].iter())
    {
        if !header.ends_with(' ') {
            header.push(',');
        }
        header.push_str(&format!("{k}=\"{}\"", encode(v)));
    }
    header
}

pub static NONCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub fn fresh_nonce() -> String {
    let n = NONCE.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!("n{n:09}")
}

pub async fn signed_get(sim: &Simulator, target: &str) -> HttpResponse {
    let s = signing(sim, &fresh_nonce());
    signed_get_with(sim, target, &s).await
}

pub async fn signed_get_with(sim: &Simulator, target: &str, s: &Signing<'_>) -> HttpResponse {
    let header = oauth_header(sim, target, s);
    send(
        &sim.base_url(),
        "GET",
        target,
        &[("Authorization", header)],
        b"",
    )
    .await
}

/// `?filter=…` with the expression encoded.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        out.append_pair(k, v);
    }
    out.finish()
}

pub fn minor(body: &Value) -> &str {
    body["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
        .as_str()
        .unwrap_or("")
}

pub fn ids(body: &Value, key: &str) -> Vec<String> {
    body[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} array in {body}"))
        .iter()
        .map(|r| r["sourcedId"].as_str().expect("sourcedId").to_owned())
        .collect()
}

pub fn next_link(answer: &HttpResponse) -> Option<String> {
    let link = answer.header("link")?;
    link.split(", ").find_map(|part| {
        let (url, rel) = part.split_once("; ")?;
        (rel == "rel=\"next\"")
            .then(|| url.trim_start_matches('<').trim_end_matches('>').to_owned())
    })
}

pub async fn default_sim() -> Simulator {
    Simulator::start(OneRosterSimConfig::default())
        .await
        .expect("start")
}
