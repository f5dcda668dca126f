//! Clever's list envelope and paging: `limit` (default 100, 1…max, 413 above),
//! `starting_after` / `ending_before` cursors over ascending ids, and `self` / `next` /
//! `prev` links that keep the request's query.

use serde_json::{json, Value};

use super::reply::Reply;

/// The default page size.
pub const DEFAULT_LIMIT: usize = 100;

/// The decoded query string, in its order.
#[derive(Debug, Clone, Default)]
pub(super) struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub fn parse(raw: &str) -> Params {
        Params {
            pairs: url::form_urlencoded::parse(raw.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The query with both cursors removed and `cursor=id` set where `starting_after`
    /// stood (or at the end).
    fn with_cursor(&self, cursor: &str, id: &str) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        let mut placed = false;
        for (key, value) in &self.pairs {
            if key == "starting_after" || key == "ending_before" {
                if !placed {
                    out.append_pair(cursor, id);
                    placed = true;
                }
                continue;
            }
            out.append_pair(key, value);
        }
        if !placed {
            out.append_pair(cursor, id);
        }
        out.finish()
    }
}

/// What a list request asks for, checked.
#[derive(Debug, Clone)]
pub(super) struct Paging {
    pub limit: usize,
    pub starting_after: Option<String>,
    pub ending_before: Option<String>,
}

/// Whether `id` looks like a Clever id (24 hex characters).
pub fn is_clever_id(id: &str) -> bool {
    id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Paging {
    /// The page holds at most `cap` records, whatever was asked.
    pub fn capped(mut self, cap: Option<usize>) -> Paging {
        if let Some(cap) = cap {
            self.limit = self.limit.min(cap.max(1));
        }
        self
    }

    /// The paging parameters, or the 400/413 answer they deserve.
    pub fn from(params: &Params, max_limit: u32) -> Result<Paging, Reply> {
        let limit = match params.get("limit") {
            None | Some("") => DEFAULT_LIMIT,
            Some(raw) => {
                let Ok(limit) = raw.trim().parse::<i64>() else {
                    return Err(Reply::bad_request(format!(
                        "invalid limit {raw:?}: must be a number"
                    )));
                };
                if limit > i64::from(max_limit) {
                    return Err(Reply::message(
                        413,
                        format!("limit must be at most {max_limit}"),
                    ));
                }
                if limit < 1 {
                    return Err(Reply::bad_request("limit must be at least 1"));
                }
                usize::try_from(limit).unwrap_or(DEFAULT_LIMIT)
            }
        };
        let cursor = |name: &str| -> Result<Option<String>, Reply> {
            match params.get(name) {
                None | Some("") => Ok(None),
                Some(id) if is_clever_id(id) => Ok(Some(id.to_ascii_lowercase())),
                Some(id) => Err(Reply::bad_request(format!("invalid {name} {id:?}"))),
            }
        };
        Ok(Paging {
            limit,
            starting_after: cursor("starting_after")?,
            ending_before: cursor("ending_before")?,
        })
    }
}

/// A list request: where it came from and how to page.
#[derive(Debug, Clone)]
pub(super) struct ListRequest<'a> {
    /// The request path (`/v3.0/users`), for the links.
    pub path: &'a str,
    pub raw_query: &'a str,
    pub params: &'a Params,
    pub paging: Paging,
    /// `/v3.0` or `/v3.1`, for the item `uri`s.
    pub version: &'a str,
    /// Answer the page one record short (fault injection), `next` unchanged.
    pub short_page: bool,
}

/// The envelope of one page of `records` (already filtered to what the district
/// shares): `{"data": [{"data": …, "uri": …}], "links": […]}`. `kind` is the path
/// segment of the item `uri`s (`users`, `schools`, …).
pub(super) fn page<T>(
    records: Vec<&T>,
    id_of: impl Fn(&T) -> &str,
    render: impl Fn(&T) -> Value,
    kind: &str,
    req: &ListRequest<'_>,
) -> Reply {
    let mut records = records;
    records.sort_by(|a, b| id_of(a).cmp(id_of(b)));
    let paging = &req.paging;
    let start = paging
        .starting_after
        .as_deref()
        .map_or(0, |after| records.partition_point(|r| id_of(r) <= after));
    let end = paging
        .ending_before
        .as_deref()
        .map_or(records.len(), |before| {
            records.partition_point(|r| id_of(r) < before)
        })
        .max(start);
    let window = &records[start..end];
    let chosen = if paging.ending_before.is_some() && paging.starting_after.is_none() {
        &window[window.len().saturating_sub(paging.limit)..]
    } else {
        &window[..window.len().min(paging.limit)]
    };
    let first = chosen.first().map(|r| id_of(r).to_owned());
    let last = chosen.last().map(|r| id_of(r).to_owned());
    let mut links = vec![json!({ "rel": "self", "uri": self_uri(req) })];
    if let Some(last) = &last {
        let more_after = records.last().is_some_and(|r| id_of(r) > last.as_str());
        if more_after {
            links.push(link(req, "next", "starting_after", last));
        }
    }
    if let Some(after) = &paging.starting_after {
        let before = first.as_deref().unwrap_or(after);
        links.push(link(req, "prev", "ending_before", before));
    } else if let (Some(first), Some(_)) = (&first, &paging.ending_before) {
        if records.first().is_some_and(|r| id_of(r) < first.as_str()) {
            links.push(link(req, "prev", "ending_before", first));
        }
    }
    let shown = if req.short_page {
        &chosen[..chosen.len().saturating_sub(1)]
    } else {
        chosen
    };
    let data: Vec<Value> = shown
        .iter()
        .map(|r| {
            json!({
                "data": render(r),
                "uri": format!("/{}/{kind}/{}", req.version, id_of(r)),
            })
        })
        .collect();
    Reply::ok(&json!({ "data": data, "links": links }))
}

fn self_uri(req: &ListRequest<'_>) -> String {
    if req.raw_query.is_empty() {
        req.path.to_owned()
    } else {
        format!("{}?{}", req.path, req.raw_query)
    }
}

fn link(req: &ListRequest<'_>, rel: &str, cursor: &str, id: &str) -> Value {
    json!({
        "rel": rel,
        "uri": format!("{}?{}", req.path, req.params.with_cursor(cursor, id)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_replaces_both_cursors_and_keeps_the_rest() {
        let params = Params::parse("role=student&starting_after=aa&limit=5&ending_before=bb");
        assert_eq!(
            params.with_cursor("starting_after", "cc"),
            "role=student&starting_after=cc&limit=5"
        );
        let params = Params::parse("role=contact");
        assert_eq!(
            params.with_cursor("starting_after", "dd"),
            "role=contact&starting_after=dd"
        );
    }

    #[test]
    fn limits_are_checked() {
        let check = |q: &str| Paging::from(&Params::parse(q), 10_000).map_err(|r| r.status);
        assert_eq!(check("").map(|p| p.limit), Ok(100));
        assert_eq!(check("limit=10000").map(|p| p.limit), Ok(10_000));
        assert_eq!(check("limit=10001").map(|p| p.limit), Err(413));
        assert_eq!(check("limit=ten").map(|p| p.limit), Err(400));
        assert_eq!(check("limit=0").map(|p| p.limit), Err(400));
        assert_eq!(check("starting_after=nope").map(|p| p.limit), Err(400));
    }
}
