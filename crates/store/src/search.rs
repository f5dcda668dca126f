//! Finding students, guardians and staff of a district (`SearchRoster`): each reading of a
//! search text ([`SearchText`]) is a lane, and each lane is one index range read in key
//! order, so a page costs a few index probes whatever the district's size.
//!
//! Lanes come in a fixed order — source ids, student numbers, e-mail addresses, phone
//! numbers, then last and first names of students, guardians and staff — and a page
//! continues from `(lane, key, id)`, so rows written meanwhile shift nothing. A person
//! two lanes would find (a student whose first and last names both begin with the text,
//! one e-mail address in both fields) is shown by the first lane only.

use model::ids::DistrictId;
use model::search::SearchText;
use sea_orm::ConnectionTrait;

use crate::sql::Params;
use crate::{Store, StoreError};

/// The kinds of people a search finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonKind {
    Student,
    Guardian,
    Staff,
}

impl PersonKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PersonKind::Student => "student",
            PersonKind::Guardian => "guardian",
            PersonKind::Staff => "staff",
        }
    }

    fn table(self) -> &'static str {
        match self {
            PersonKind::Student => "students",
            PersonKind::Guardian => "guardians",
            PersonKind::Staff => "staff",
        }
    }

    /// The columns a match shows: id, source id, first and last name, student number,
    /// e-mail, archived.
    fn columns(self) -> &'static str {
        match self {
            PersonKind::Student => {
                "id, source_id, legal_first_name, legal_last_name, student_number, org_email, archived"
            }
            PersonKind::Guardian => {
                "id, coalesce(source_id, ''), first_name, last_name, '', email, archived"
            }
            PersonKind::Staff => "id, source_id, first_name, last_name, '', email, archived",
        }
    }
}

/// A person a search found, and the field that found them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub kind: PersonKind,
    pub id: String,
    /// Empty for a guardian made in our product only.
    pub source_id: String,
    pub first_name: String,
    pub last_name: String,
    /// Students only.
    pub student_number: String,
    pub email: String,
    pub archived: bool,
    /// `source_id`, `student_number`, `email`, `personal_email`, `mobile_phone`,
    /// `home_phone`, `last_name` or `first_name`.
    pub matched: &'static str,
}

/// Where a page of a search ends: the lane, and the key and id of its last row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchCursor {
    pub lane: usize,
    pub key: String,
    pub id: String,
}

impl SearchCursor {
    /// The cursor as one string (a page token's key).
    pub fn encode(&self) -> String {
        format!("{}\u{1f}{}\u{1f}{}", self.lane, self.key, self.id)
    }

    /// A cursor [`SearchCursor::encode`] made; `None` for anything else.
    pub fn decode(text: &str) -> Option<SearchCursor> {
        let mut parts = text.split('\u{1f}');
        let lane = parts.next()?.parse().ok()?;
        let key = parts.next()?.to_owned();
        let id = parts.next()?.to_owned();
        (parts.next().is_none() && lane < LANES.len()).then_some(SearchCursor { lane, key, id })
    }
}

/// What a lane compares with its key.
#[derive(Debug, Clone, Copy)]
enum Reading {
    /// The text as given.
    Exact,
    Email,
    Phone,
    /// The first word of the text as a name, by prefix.
    Name,
}

/// One lane: whom it finds, by which key and index, and the lane before it that finds
/// the same people by another field of the same row (shown there, so left out here).
struct Lane {
    kind: PersonKind,
    matched: &'static str,
    key: &'static str,
    /// The index that holds the lane in `(key, id)` order. SQLite is told to read it
    /// (`INDEXED BY`): without statistics, it would rather walk the primary key in `id`
    /// order and test every row of the district.
    index: &'static str,
    reading: Reading,
    shown_by: Option<&'static str>,
}

const fn lane(
    kind: PersonKind,
    matched: &'static str,
    (key, index): (&'static str, &'static str),
    reading: Reading,
    shown_by: Option<&'static str>,
) -> Lane {
    Lane {
        kind,
        matched,
        key,
        index,
        reading,
        shown_by,
    }
}

use PersonKind::{Guardian, Staff, Student};
use Reading::{Email, Exact, Name, Phone};

const LANES: [Lane; 16] = [
    lane(
        Student,
        "source_id",
        ("source_id", "ux_students_source"),
        Exact,
        None,
    ),
    lane(
        Guardian,
        "source_id",
        ("source_id", "ux_guardians_source"),
        Exact,
        None,
    ),
    lane(
        Staff,
        "source_id",
        ("source_id", "ux_staff_source"),
        Exact,
        None,
    ),
    lane(
        Student,
        "student_number",
        ("student_number", "ix_students_number"),
        Exact,
        Some("source_id"),
    ),
    lane(
        Student,
        "email",
        ("lower(org_email)", "ix_students_org_email"),
        Email,
        None,
    ),
    lane(
        Student,
        "personal_email",
        ("lower(personal_email)", "ix_students_personal_email"),
        Email,
        Some("lower(org_email)"),
    ),
    lane(
        Guardian,
        "email",
        ("lower(email)", "ix_guardians_lower_email"),
        Email,
        None,
    ),
    lane(
        Staff,
        "email",
        ("lower(email)", "ix_staff_lower_email"),
        Email,
        None,
    ),
    lane(
        Guardian,
        "mobile_phone",
        ("mobile_phone_e164", "ix_guardians_mobile_e164"),
        Phone,
        None,
    ),
    lane(
        Guardian,
        "home_phone",
        ("home_phone_e164", "ix_guardians_home_e164"),
        Phone,
        Some("mobile_phone_e164"),
    ),
    lane(
        Student,
        "last_name",
        ("last_key", "ix_students_last_key"),
        Name,
        None,
    ),
    lane(
        Student,
        "first_name",
        ("first_key", "ix_students_first_key"),
        Name,
        Some("last_key"),
    ),
    lane(
        Guardian,
        "last_name",
        ("last_key", "ix_guardians_last_key"),
        Name,
        None,
    ),
    lane(
        Guardian,
        "first_name",
        ("first_key", "ix_guardians_first_key"),
        Name,
        Some("last_key"),
    ),
    lane(
        Staff,
        "last_name",
        ("last_key", "ix_staff_last_key"),
        Name,
        None,
    ),
    lane(
        Staff,
        "first_name",
        ("first_key", "ix_staff_first_key"),
        Name,
        Some("last_key"),
    ),
];

/// Past every name key that begins with a prefix, in byte order.
const PAST: char = '\u{10FFFF}';

impl Store {
    /// Up to `limit` people of `district` the text finds, after `after`, each with the
    /// cursor a page ending at it continues from; a page shorter than `limit` is the last.
    pub async fn search_roster(
        &self,
        district: &DistrictId,
        text: &SearchText,
        after: Option<&SearchCursor>,
        limit: u64,
    ) -> Result<Vec<(Match, SearchCursor)>, StoreError> {
        let mut found: Vec<(Match, SearchCursor)> = Vec::new();
        let first = after.map_or(0, |a| a.lane);
        for (at, lane) in LANES.iter().enumerate().skip(first) {
            let want = limit.saturating_sub(found.len() as u64);
            if want == 0 {
                break;
            }
            let Some(value) = reading(lane.reading, text) else {
                continue;
            };
            let from = after.filter(|a| a.lane == at);
            let rows = self
                .lane_page(district, lane, value, text, from, want)
                .await?;
            found.extend(rows.into_iter().map(|(m, key)| {
                let cursor = SearchCursor {
                    lane: at,
                    key,
                    id: m.id.clone(),
                };
                (m, cursor)
            }));
        }
        Ok(found)
    }

    /// One lane's rows after `from`, in key order, with each row's key.
    async fn lane_page(
        &self,
        district: &DistrictId,
        lane: &Lane,
        value: &str,
        text: &SearchText,
        from: Option<&SearchCursor>,
        limit: u64,
    ) -> Result<Vec<(Match, String)>, StoreError> {
        let backend = self.db().get_database_backend();
        let statement = lane_statement(backend, district, lane, value, text, from, limit);
        let rows = self.db().query_all(statement).await?;
        rows.into_iter()
            .map(|row| {
                let m = Match {
                    kind: lane.kind,
                    id: row.try_get_by_index(0)?,
                    source_id: row.try_get_by_index(1)?,
                    first_name: row.try_get_by_index(2)?,
                    last_name: row.try_get_by_index(3)?,
                    student_number: row.try_get_by_index(4)?,
                    email: row.try_get_by_index(5)?,
                    archived: row.try_get_by_index(6)?,
                    matched: lane.matched,
                };
                Ok((m, row.try_get_by_index(7)?))
            })
            .collect()
    }
}

/// The value a lane looks for, when the text can be read that way.
fn reading(reading: Reading, text: &SearchText) -> Option<&str> {
    match reading {
        Reading::Exact => text.exact.as_deref(),
        Reading::Email => text.email.as_deref(),
        Reading::Phone => text.phone.as_deref(),
        Reading::Name => text.name.first().map(String::as_str),
    }
}

/// One lane's page as a statement: an index range in `(key, id)` order, after `from`.
fn lane_statement(
    backend: sea_orm::DbBackend,
    district: &DistrictId,
    lane: &Lane,
    value: &str,
    text: &SearchText,
    from: Option<&SearchCursor>,
    limit: u64,
) -> sea_orm::Statement {
    let mut p = Params::new(backend);
    let key = lane.key;
    let indexed = match backend {
        sea_orm::DbBackend::Sqlite => format!(" INDEXED BY {}", lane.index),
        _ => String::new(),
    };
    let mut sql = format!(
        "SELECT {}, {key} FROM {}{indexed} WHERE district_id = {}",
        lane.kind.columns(),
        lane.kind.table(),
        p.bind(district.to_string())
    );
    match lane.reading {
        Reading::Name => {
            let (low, high) = (p.bind(value), p.bind(format!("{value}{PAST}")));
            sql += &format!(" AND {key} >= {low} AND {key} < {high}");
            if let Some(other) = lane.shown_by {
                let (low, high) = (p.bind(value), p.bind(format!("{value}{PAST}")));
                sql += &format!(" AND NOT ({other} >= {low} AND {other} < {high})");
            }
            // Every further word begins a word of the first or last name.
            for word in text.name.iter().skip(1) {
                let patterns = [
                    ("first_key", format!("{word}%")),
                    ("last_key", format!("{word}%")),
                    ("first_key", format!("% {word}%")),
                    ("last_key", format!("% {word}%")),
                ];
                let any: Vec<String> = patterns
                    .into_iter()
                    .map(|(column, pattern)| format!("{column} LIKE {}", p.bind(pattern)))
                    .collect();
                sql += &format!(" AND ({})", any.join(" OR "));
            }
            if let Some(from) = from {
                let (k, id) = (p.bind(from.key.clone()), p.bind(from.id.clone()));
                sql += &format!(" AND ({key}, id) > ({k}, {id})");
            }
            sql += &format!(" ORDER BY {key}, id LIMIT {limit}");
        }
        _ => {
            sql += &format!(" AND {key} = {}", p.bind(value));
            if let Some(other) = lane.shown_by {
                sql += &format!(" AND {other} <> {}", p.bind(value));
            }
            // The key is the text itself: the lane is in id order.
            if let Some(from) = from {
                sql += &format!(" AND id > {}", p.bind(from.id.clone()));
            }
            sql += &format!(" ORDER BY id LIMIT {limit}");
        }
    }
    p.statement(sql)
}

/// How the database would read each lane the text has: its query plan, for tests that
/// show every lane reads an index.
#[cfg(test)]
pub(crate) async fn lane_plans(
    store: &Store,
    district: &DistrictId,
    text: &SearchText,
) -> Result<Vec<(&'static str, &'static str, String)>, StoreError> {
    use sea_orm::TransactionTrait;
    let backend = store.db().get_database_backend();
    let txn = store.db().begin().await?;
    if backend == sea_orm::DbBackend::Postgres {
        // A small table is cheaper to scan: ask for what the indexes allow.
        txn.execute_unprepared("SET LOCAL enable_seqscan = off")
            .await?;
    }
    let from = SearchCursor {
        lane: 0,
        key: "m".into(),
        id: "0".into(),
    };
    let mut plans = Vec::new();
    for lane in &LANES {
        let Some(value) = reading(lane.reading, text) else {
            continue;
        };
        let statement = lane_statement(backend, district, lane, value, text, Some(&from), 51);
        let explain = match backend {
            sea_orm::DbBackend::Postgres => "EXPLAIN ",
            _ => "EXPLAIN QUERY PLAN ",
        };
        let statement = sea_orm::Statement {
            sql: format!("{explain}{}", statement.sql),
            ..statement
        };
        let rows = txn.query_all(statement).await?;
        let lines: Vec<String> = rows
            .iter()
            .map(|r| {
                let last = r.try_get_by_index::<String>(0).ok();
                last.or_else(|| r.try_get_by_index::<String>(3).ok())
                    .unwrap_or_default()
            })
            .collect();
        plans.push((lane.kind.as_str(), lane.matched, lines.join(" | ")));
    }
    Ok(plans)
}
