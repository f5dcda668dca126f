//! A tiny HTTP/1.1 client over a raw TCP stream, enough to talk to the simulator and to
//! see exactly what went over the wire (including a body cut short).

#![allow(dead_code)]

use base64::Engine as _;
use rostersync_sim::powerschool::{SimConfig, Simulator};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whether the whole body arrived (as `Content-Length` or chunked framing says).
    pub complete: bool,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request on a new connection and reads the answer to the end.
pub async fn send(
    base_url: &str,
    method: &str,
    target: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> HttpResponse {
    let host = base_url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).await.expect("connect");
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nAccept: application/json\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(body).await.expect("write body");
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    parse(&raw)
}

fn parse(raw: &[u8]) -> HttpResponse {
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        // The connection closed before a whole head arrived.
        return HttpResponse {
            status: 0,
            headers: Vec::new(),
            body: raw.to_vec(),
            complete: false,
        };
    };
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let rest = &raw[end + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let find = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let (body, complete) = dechunk(rest);
        return HttpResponse {
            status,
            headers,
            body,
            complete,
        };
    }
    let body = rest.to_vec();
    let complete = match find("content-length").and_then(|v| v.parse::<usize>().ok()) {
        Some(len) => body.len() == len,
        None => true,
    };
    HttpResponse {
        status,
        headers,
        body,
        complete,
    }
}

fn dechunk(mut rest: &[u8]) -> (Vec<u8>, bool) {
    let mut body = Vec::new();
    loop {
        let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") else {
            return (body, false);
        };
        let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..line_end]).trim(), 16);
        let Ok(size) = size else {
            return (body, false);
        };
        rest = &rest[line_end + 2..];
        if size == 0 {
            return (body, true);
        }
        if rest.len() < size + 2 {
            body.extend_from_slice(&rest[..rest.len().min(size)]);
            return (body, false);
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// A client holding the simulator's address and, once fetched, an access token.
pub struct Client {
    pub base: String,
    pub token: String,
}

impl Client {
    pub fn new(base: String) -> Client {
        Client {
            base,
            token: String::new(),
        }
    }

    /// `POST /oauth/access_token` with these credentials.
    pub async fn token_request(&self, id: &str, secret: &str) -> HttpResponse {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        send(
            &self.base,
            "POST",
            "/oauth/access_token",
            &[
                ("Authorization", format!("Basic {basic}")),
                (
                    "Content-Type",
                    "application/x-www-form-urlencoded;charset=UTF-8".to_owned(),
                ),
            ],
            b"grant_type=client_credentials",
        )
        .await
    }

    /// Fetches a token and keeps it.
    pub async fn login(&mut self, id: &str, secret: &str) {
        let answer = self.token_request(id, secret).await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        self.token = answer.json()["access_token"]
            .as_str()
            .expect("token")
            .to_owned();
    }

    pub async fn get(&self, target: &str) -> HttpResponse {
        send(
            &self.base,
            "GET",
            target,
            &[("Authorization", format!("Bearer {}", self.token))],
            b"",
        )
        .await
    }

    pub async fn post(&self, target: &str, body: &str) -> HttpResponse {
        send(
            &self.base,
            "POST",
            target,
            &[
                ("Authorization", format!("Bearer {}", self.token)),
                ("Content-Type", "application/json".to_owned()),
            ],
            body.as_bytes(),
        )
        .await
    }
}

/// A JSON value that may be one object or a list of them, as a list.
pub fn as_list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// Starts a simulator and logs a client in.
pub async fn start(config: SimConfig) -> (Simulator, Client) {
    let sim = Simulator::start(config).await.expect("simulator starts");
    let mut client = Client::new(sim.base_url());
    client.login(sim.client_id(), sim.client_secret()).await;
    (sim, client)
}

pub async fn default_sim() -> (Simulator, Client) {
    start(SimConfig::default()).await
}
pub mod clever;
pub mod oneroster;
