//! Fault injection: a test queues faults, each matching requests by path prefix (and
//! optionally method), letting `skip` of them pass, then hitting `times` of them.

use std::time::Duration;

/// Which requests a fault applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// `None`: any method.
    pub method: Option<String>,
    /// The start of the request path (`""` matches every path).
    pub path_prefix: String,
}

impl Match {
    /// Every request.
    pub fn any() -> Match {
        Match {
            method: None,
            path_prefix: String::new(),
        }
    }

    /// Requests whose path starts with `prefix`.
    pub fn path(prefix: impl Into<String>) -> Match {
        Match {
            method: None,
            path_prefix: prefix.into(),
        }
    }

    /// `GET` requests whose path starts with `prefix`.
    pub fn get(prefix: impl Into<String>) -> Match {
        Match::path(prefix).method("GET")
    }

    /// `POST` requests whose path starts with `prefix`.
    pub fn post(prefix: impl Into<String>) -> Match {
        Match::path(prefix).method("POST")
    }

    /// Restricts the match to one method.
    pub fn method(mut self, method: impl Into<String>) -> Match {
        self.method = Some(method.into());
        self
    }

    pub fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && path.starts_with(&self.path_prefix)
    }
}

/// What a fault does to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// 500 with a JSON message.
    Status500,
    /// 429 with `Retry-After`.
    TooManyRequests { retry_after_secs: u64 },
    /// 401 `invalid_token`, as for an expired token (the token stays in force).
    Unauthorized,
    /// Waits, then answers normally.
    Delay(Duration),
    /// Sends the status, the headers (with the full `Content-Length`) and half the body,
    /// then aborts the connection.
    DropMidBody,
    /// 200 with the first half of the real body: truncated, invalid JSON.
    MalformedJson,
    /// Answers the page with its last row removed, as if the source lost a row.
    ShortPage,
    /// `status` with an HTML page instead of JSON, as a gateway or a proxy in front of
    /// the source answers (and as Clever answers some wrong-token requests).
    HtmlError { status: u16 },
}

/// The HTML page a [`FaultKind::HtmlError`] (or a source that errs in HTML) answers.
pub(crate) fn html_page(status: u16) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><title>{status} Error</title></head>\n<body><h1>{status} Error</h1><p>The server could not complete the request.</p></body></html>\n"
    )
}

/// A queued fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub when: Match,
    pub kind: FaultKind,
    /// How many matching requests it hits; then it is used up.
    pub times: u32,
    /// How many matching requests pass untouched first.
    pub skip: u32,
}

impl Fault {
    /// A fault hitting the first matching request once.
    pub fn new(when: Match, kind: FaultKind) -> Fault {
        Fault {
            when,
            kind,
            times: 1,
            skip: 0,
        }
    }

    pub fn times(mut self, times: u32) -> Fault {
        self.times = times;
        self
    }

    pub fn skip(mut self, skip: u32) -> Fault {
        self.skip = skip;
        self
    }
}

/// The fault a request meets, if any. Every matching fault counts the request against
/// its `skip`; the first one past its skip fires and spends one of its `times`.
pub(crate) fn take(faults: &mut Vec<Fault>, method: &str, path: &str) -> Option<FaultKind> {
    let mut fired = None;
    for fault in faults.iter_mut() {
        if fault.times == 0 || !fault.when.matches(method, path) {
            continue;
        }
        if fault.skip > 0 {
            fault.skip -= 1;
        } else if fired.is_none() {
            fault.times -= 1;
            fired = Some(fault.kind.clone());
        }
    }
    faults.retain(|f| f.times > 0);
    fired
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_skips_then_fires_its_times_then_is_spent() {
        let mut faults = vec![Fault::new(Match::get("/ws/v1"), FaultKind::Status500)
            .skip(1)
            .times(2)];
        let hits: Vec<bool> = (0..5)
            .map(|_| take(&mut faults, "GET", "/ws/v1/district/school").is_some())
            .collect();
        assert_eq!(hits, vec![false, true, true, false, false]);
        assert!(faults.is_empty());
    }

    #[test]
    fn method_and_prefix_must_both_match() {
        let mut faults = vec![Fault::new(
            Match::post("/ws/schema/query"),
            FaultKind::Unauthorized,
        )];
        assert_eq!(take(&mut faults, "GET", "/ws/schema/query/x"), None);
        assert_eq!(take(&mut faults, "POST", "/ws/v1/x"), None);
        assert_eq!(
            take(&mut faults, "POST", "/ws/schema/query/x"),
            Some(FaultKind::Unauthorized)
        );
    }
}

/// The faults queued for a simulator, and how many have fired.
#[derive(Debug, Default)]
pub struct Faults {
    queue: std::sync::Mutex<Vec<Fault>>,
    /// Counted when taken (a request the client abandons mid-fault is never logged, but
    /// its fault fired).
    fired: std::sync::atomic::AtomicUsize,
}

impl Faults {
    pub fn inject(&self, fault: Fault) {
        super::lock(&self.queue).push(fault);
    }

    pub fn clear(&self) {
        super::lock(&self.queue).clear();
    }

    /// The fault this request meets, if one matches; counted as fired.
    pub fn take(&self, method: &str, path: &str) -> Option<FaultKind> {
        let fault = take(&mut super::lock(&self.queue), method, path);
        if fault.is_some() {
            self.fired.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        fault
    }

    pub fn fired(&self) -> usize {
        self.fired.load(std::sync::atomic::Ordering::SeqCst)
    }
}
