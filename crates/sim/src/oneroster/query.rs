//! The query features of a collection (reference §4): `limit` / `offset` paging with
//! `X-Total-Count` and a `Link` header, `sort` + `orderBy`, `filter` (at most two
//! predicates joined by ` AND ` / ` OR `, ops `= != > >= < <= ~`) and `fields`
//! projection. Filters and counts run on the structs; only the page is rendered.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

use super::render::{Ctx, Field, Record, Version};
use super::reply::Reply;

/// The default page size.
pub const DEFAULT_LIMIT: usize = 100;

/// The decoded query string, in its order.
#[derive(Debug, Clone, Default)]
pub(super) struct Params {
    pub pairs: Vec<(String, String)>,
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

    /// The query with `limit` and `offset` replaced.
    fn with_page(&self, limit: usize, offset: usize) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in &self.pairs {
            if key != "limit" && key != "offset" {
                out.append_pair(key, value);
            }
        }
        out.append_pair("limit", &limit.to_string());
        out.append_pair("offset", &offset.to_string());
        out.finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Contains,
}

/// `field op 'value'`.
#[derive(Debug, Clone)]
struct Predicate {
    field: String,
    op: Op,
    value: String,
    /// `value` lower-cased, for `~`.
    lower: String,
    /// `value` as a time, for `dateLastModified`.
    time: Option<DateTime<Utc>>,
}

impl Predicate {
    fn test_str(&self, s: &str) -> bool {
        let v = self.value.as_str();
        match self.op {
            Op::Eq => s == v,
            Op::Ne => s != v,
            Op::Gt => s > v,
            Op::Ge => s >= v,
            Op::Lt => s < v,
            Op::Le => s <= v,
            Op::Contains => s.to_lowercase().contains(&self.lower),
        }
    }

    fn test(&self, field: Option<Field<'_>>) -> bool {
        match field {
            None => false,
            Some(Field::One(s)) => self.test_str(&s),
            Some(Field::Many(list)) if self.op == Op::Ne => list.iter().all(|s| self.test_str(s)),
            Some(Field::Many(list)) => list.iter().any(|s| self.test_str(s)),
            Some(Field::Time(t)) => {
                let Some(v) = self.time else { return false };
                match self.op {
                    Op::Eq => t == v,
                    Op::Ne => t != v,
                    Op::Gt => t > v,
                    Op::Ge => t >= v,
                    Op::Lt => t < v,
                    Op::Le => t <= v,
                    Op::Contains => super::render::stamp(&t).contains(&self.value),
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Logic {
    And,
    Or,
}

/// One or two predicates.
#[derive(Debug, Clone)]
pub(super) struct Filter {
    first: Predicate,
    rest: Option<(Logic, Predicate)>,
}

/// A time a `dateLastModified` filter compares against: RFC 3339, or a bare date.
fn parse_time(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc());
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

fn malformed(why: &str) -> Reply {
    Reply::bad_request("invalid_filter_field", format!("malformed filter: {why}"))
}

/// Parses `field op 'value'` at the start of `text`; answers it and the rest.
fn predicate(text: &str, allowed: &[&str]) -> Result<(Predicate, String), Reply> {
    let text = text.trim_start();
    let op_at = text
        .find(['=', '!', '>', '<', '~'])
        .ok_or_else(|| malformed("no operator"))?;
    let field = text[..op_at].trim();
    let rest = &text[op_at..];
    let (op, len) = [
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("!=", Op::Ne),
        ("=", Op::Eq),
        (">", Op::Gt),
        ("<", Op::Lt),
        ("~", Op::Contains),
    ]
    .iter()
    .find(|(sym, _)| rest.starts_with(sym))
    .map(|(sym, op)| (*op, sym.len()))
    .ok_or_else(|| malformed("unknown operator"))?;
    if field.is_empty() || field.contains(char::is_whitespace) {
        return Err(malformed("bad field name"));
    }
    let rest = rest[len..].trim_start();
    let quote = rest
        .chars()
        .next()
        .filter(|c| *c == '\'' || *c == '"')
        .ok_or_else(|| malformed("the value must be quoted"))?;
    let body = &rest[1..];
    let end = body
        .find(quote)
        .ok_or_else(|| malformed("unterminated value"))?;
    let value = body[..end].to_owned();
    if !allowed.contains(&field) {
        return Err(Reply::bad_request(
            "invalid_filter_field",
            format!("unknown filter field {field}"),
        ));
    }
    let time = if field == "dateLastModified" {
        Some(parse_time(&value).ok_or_else(|| malformed("not a date-time"))?)
    } else {
        None
    };
    Ok((
        Predicate {
            field: field.to_owned(),
            op,
            lower: value.to_lowercase(),
            value,
            time,
        },
        body[end + 1..].to_owned(),
    ))
}

impl Filter {
    pub fn parse(text: &str, allowed: &[&str]) -> Result<Filter, Reply> {
        let (first, rest) = predicate(text, allowed)?;
        let rest = rest.trim();
        if rest.is_empty() {
            return Ok(Filter { first, rest: None });
        }
        let (logic, after) = if let Some(after) = rest.strip_prefix("AND ") {
            (Logic::And, after)
        } else if let Some(after) = rest.strip_prefix("OR ") {
            (Logic::Or, after)
        } else {
            return Err(malformed("expected AND or OR between predicates"));
        };
        let (second, tail) = predicate(after, allowed)?;
        if !tail.trim().is_empty() {
            return Err(malformed("at most two predicates"));
        }
        Ok(Filter {
            first,
            rest: Some((logic, second)),
        })
    }

    pub fn matches<R: Record>(&self, record: &R, version: Version) -> bool {
        let test = |p: &Predicate| p.test(record.field(&p.field, version));
        match &self.rest {
            None => test(&self.first),
            Some((Logic::And, second)) => test(&self.first) && test(second),
            Some((Logic::Or, second)) => test(&self.first) || test(second),
        }
    }
}

/// A collection request's query, checked.
#[derive(Debug, Clone)]
pub(super) struct ListQuery {
    pub limit: usize,
    pub offset: usize,
    pub filter: Option<Filter>,
    pub sort: Option<String>,
    pub descending: bool,
    pub fields: Option<Vec<String>>,
}

fn number(params: &Params, name: &str) -> Result<Option<usize>, Reply> {
    match params.get(name) {
        None => Ok(None),
        Some(raw) => raw.trim().parse::<usize>().map(Some).map_err(|_| {
            Reply::bad_request("invaliddata", format!("{name} must be a whole number ≥ 0"))
        }),
    }
}

/// The `fields` selection, checked against what `R` renders.
pub(super) fn fields<R: Record>(
    params: &Params,
    version: Version,
) -> Result<Option<Vec<String>>, Reply> {
    let Some(raw) = params.get("fields") else {
        return Ok(None);
    };
    let allowed = R::select_fields(version);
    let mut out = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if !allowed.contains(&name) {
            return Err(Reply::bad_request(
                "invalid_selection_field",
                format!("unknown selection field {name}"),
            ));
        }
        out.push(name.to_owned());
    }
    Ok(Some(out))
}

impl ListQuery {
    pub fn parse<R: Record>(
        params: &Params,
        version: Version,
        max_limit: u32,
    ) -> Result<ListQuery, Reply> {
        let limit = number(params, "limit")?.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 {
            return Err(Reply::bad_request(
                "invaliddata",
                "limit must be at least 1",
            ));
        }
        let limit = limit.min(max_limit.max(1) as usize);
        let offset = number(params, "offset")?.unwrap_or(0);
        let filter = match params.get("filter").filter(|f| !f.trim().is_empty()) {
            Some(text) => Some(Filter::parse(text, R::filter_fields(version))?),
            None => None,
        };
        let sort = match params.get("sort").map(str::trim).filter(|s| !s.is_empty()) {
            Some(field) if R::filter_fields(version).contains(&field) => Some(field.to_owned()),
            Some(field) => {
                return Err(Reply::bad_request(
                    "invalid_sort_field",
                    format!("unknown sort field {field}"),
                ))
            }
            None => None,
        };
        // A value other than asc/desc is ignored, as ClassLink ignores a misspelt `dsc`.
        let descending = params.get("orderBy") == Some("desc");
        Ok(ListQuery {
            limit,
            offset,
            filter,
            sort,
            descending,
            fields: fields::<R>(params, version)?,
        })
    }
}

/// Keeps only the selected top-level keys.
pub(super) fn project(
    mut map: Map<String, Value>,
    fields: Option<&[String]>,
) -> Map<String, Value> {
    if let Some(fields) = fields {
        map.retain(|k, _| fields.iter().any(|f| f == k));
    }
    map
}

/// Where the list was asked for, to build the `Link` header.
#[derive(Debug)]
pub(super) struct Page<'a> {
    /// `http://HOST:PORT/ims/…/users` (no query).
    pub url: &'a str,
    pub params: &'a Params,
    pub short_page: bool,
    pub quirks: &'a super::quirks::Quirks,
}

/// Answers one page of `rows` under `key`.
pub(super) fn list<'r, R: Record + 'r>(
    rows: impl Iterator<Item = &'r R>,
    key: &str,
    query: &ListQuery,
    ctx: &Ctx<'_>,
    page: &Page<'_>,
) -> Reply {
    let version = ctx.version;
    let district = ctx.district;
    let mut matched: Vec<&R> = if district.shares_nothing {
        Vec::new()
    } else {
        rows.filter(|r| r.visible(district))
            .filter(|r| query.filter.as_ref().is_none_or(|f| f.matches(*r, version)))
            .collect()
    };
    if let Some(sort) = &query.sort {
        let mut keyed: Vec<(String, &R)> = matched
            .iter()
            .map(|r| {
                (
                    r.field(sort, version)
                        .map(|f| f.sort_key())
                        .unwrap_or_default(),
                    *r,
                )
            })
            .collect();
        if query.descending {
            keyed.sort_by(|a, b| b.0.cmp(&a.0));
        } else {
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
        }
        matched = keyed.into_iter().map(|(_, r)| r).collect();
    } else if query.descending {
        matched.reverse();
    }
    let total = matched.len();
    let offset = if page.quirks.ignore_offset {
        0
    } else {
        query.offset
    };
    let start = offset.min(total);
    let end = start.saturating_add(query.limit).min(total);
    let mut rows = &matched[start..end];
    if page.short_page && !rows.is_empty() {
        rows = &rows[..rows.len() - 1];
    }
    let fields = query.fields.as_deref();
    let rendered: Vec<Value> = rows
        .iter()
        .map(|r| Value::Object(project(r.render(ctx), fields)))
        .collect();
    let mut body = Map::new();
    body.insert(key.to_owned(), Value::Array(rendered));
    let limit = query.limit;
    let mut links = String::new();
    let mut link = |offset: usize, rel: &str| {
        if !links.is_empty() {
            links.push_str(", ");
        }
        let _ = write!(
            links,
            "<{}?{}>; rel=\"{rel}\"",
            page.url,
            page.params.with_page(limit, offset)
        );
    };
    if query.offset.saturating_add(limit) < total {
        link(query.offset + limit, "next");
    }
    link(total.saturating_sub(1) / limit * limit, "last");
    link(0, "first");
    if query.offset > 0 {
        link(query.offset.saturating_sub(limit), "prev");
    }
    let mut reply = Reply::raw_json(200, serde_json::to_vec(&body).unwrap_or_default());
    if !page.quirks.no_total {
        reply = reply.header("x-total-count", total);
    }
    if !page.quirks.no_links {
        reply = reply.header("link", links);
    }
    reply
}

/// Answers one record under its single key, or 404.
pub(super) fn single<R: Record>(
    record: Option<&R>,
    what: &str,
    id: &str,
    params: &Params,
    ctx: &Ctx<'_>,
) -> Reply {
    let fields = match fields::<R>(params, ctx.version) {
        Ok(f) => f,
        Err(reply) => return reply,
    };
    match record.filter(|r| !ctx.district.shares_nothing && r.visible(ctx.district)) {
        Some(r) => {
            let mut body = Map::new();
            body.insert(
                R::SINGLE.to_owned(),
                Value::Object(project(r.render(ctx), fields.as_deref())),
            );
            Reply::json(200, &Value::Object(body))
        }
        None => Reply::not_found(format!("{what} {id} not found")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[&str] = &["role", "givenName", "dateLastModified"];

    #[test]
    fn filters_parse_one_or_two_predicates() {
        let f = Filter::parse("role='parent' OR role='guardian'", FIELDS).expect("parses");
        assert_eq!(f.first.value, "parent");
        assert!(matches!(f.rest, Some((Logic::Or, ref p)) if p.value == "guardian"));
        let f = Filter::parse("dateLastModified>='2026-01-01T00:00:00Z'", FIELDS).expect("date");
        assert_eq!(f.first.op, Op::Ge);
        assert!(f.first.time.is_some());
        let f = Filter::parse("givenName~'an' AND role!='student'", FIELDS).expect("and");
        assert_eq!(f.first.op, Op::Contains);
    }

    #[test]
    fn bad_filters_are_refused() {
        let minor = |r: Reply| {
            let v: Value = serde_json::from_slice(&r.body).expect("json");
            v["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        };
        for bad in [
            "role",
            "role='a",
            "role=a",
            "role='a' XOR role='b'",
            "role='a' AND role='b' AND role='c'",
            "dateLastModified>'yesterday'",
        ] {
            let err = Filter::parse(bad, FIELDS).expect_err(bad);
            assert_eq!(err.status, 400, "{bad}");
        }
        let err = Filter::parse("shoeSize='9'", FIELDS).expect_err("unknown");
        assert_eq!(minor(err), "invalid_filter_field");
    }
}
