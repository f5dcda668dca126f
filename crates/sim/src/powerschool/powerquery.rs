//! `POST /ws/schema/query/com.pearson.core.guardian.student_guardian_detail` (and
//! `…/count`): one grouped record per (student, guardian) pair that has data access
//! (`GuardianStudent`) and an enabled PCAS account, by (student DCID, guardian id).

use std::collections::{BTreeSet, HashMap};

use serde_json::{json, Value};

use super::auth::PluginState;
use super::data::District;
use super::query::{page_range, Params};
use super::reply::Reply;

pub(super) const STUDENT_GUARDIAN_DETAIL: &str =
    "com.pearson.core.guardian.student_guardian_detail";

/// The fields the query reads, which the plugin must be granted.
const FIELDS: &[&str] = &[
    "students.dcid",
    "guardian.guardianid",
    "guardian.firstname",
    "guardian.lastname",
    "pcas_account.username",
    "pcas_emailcontact.emailaddress",
];

/// One (student, guardian) row of the query.
#[derive(Debug, Clone)]
pub(super) struct DetailRecord {
    student_dcid: u64,
    guardian_id: u64,
    first_name: String,
    last_name: String,
    state_guardian_number: String,
    username: String,
    email: Option<String>,
}

/// Every row of the query, by (student DCID, guardian id).
pub(super) fn records(d: &District) -> Vec<DetailRecord> {
    let students: BTreeSet<u64> = d.students.iter().map(|s| s.dcid).collect();
    let guardians: HashMap<u64, &super::data::Guardian> =
        d.guardians.iter().map(|g| (g.id, g)).collect();
    let accounts: HashMap<&str, &super::data::PcasAccount> = d
        .pcas_accounts
        .iter()
        .map(|a| (a.account_token.as_str(), a))
        .collect();
    let emails: HashMap<u64, &str> = d
        .pcas_email_contacts
        .iter()
        .map(|e| (e.pcas_account_id, e.email_address.as_str()))
        .collect();
    let mut out: Vec<DetailRecord> = d
        .guardian_students
        .iter()
        .filter(|gs| students.contains(&gs.student_dcid))
        .filter_map(|gs| {
            let guardian = guardians.get(&gs.guardian_id)?;
            let account = accounts.get(guardian.account_identifier.as_str())?;
            if !account.is_enabled {
                return None;
            }
            Some(DetailRecord {
                student_dcid: gs.student_dcid,
                guardian_id: guardian.id,
                first_name: guardian.first_name.clone(),
                last_name: guardian.last_name.clone(),
                state_guardian_number: guardian.state_guardian_number.clone(),
                username: account.username.clone(),
                email: emails.get(&account.id).map(|e| (*e).to_owned()),
            })
        })
        .collect();
    out.sort_by_key(|r| (r.student_dcid, r.guardian_id));
    out.dedup_by_key(|r| (r.student_dcid, r.guardian_id));
    out
}

/// Checks the query name and grants; `Err` is the answer to give.
pub(super) fn prepare(name: &str, plugin: &PluginState) -> Result<(), Reply> {
    if name != STUDENT_GUARDIAN_DETAIL {
        return Err(Reply::message(404, format!("PowerQuery not found: {name}")));
    }
    for field in FIELDS {
        let (table, column) = field.split_once('.').unwrap_or((field, ""));
        if !plugin.grants(table, column) {
            return Err(Reply::json(
                403,
                &json!({
                    "message": "Validation Failed",
                    "errors": [{ "resource": name, "field": field, "code": "No access to the field" }],
                }),
            ));
        }
    }
    Ok(())
}

/// The ids of an argument: a JSON array of strings or numbers (or one of them).
fn ids(args: &serde_json::Map<String, Value>, name: &str) -> Result<Option<BTreeSet<u64>>, Reply> {
    let Some(value) = args.get(name) else {
        return Ok(None);
    };
    let items = match value {
        Value::Array(items) => items.clone(),
        Value::Null => return Ok(None),
        other => vec![other.clone()],
    };
    let mut set = BTreeSet::new();
    for item in items {
        let id = match &item {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => {
                return Err(Reply::message(
                    400,
                    format!("Invalid value for argument {name}: {item}"),
                ))
            }
        };
        // An id that cannot exist matches nothing, as an unknown id does.
        set.insert(id.unwrap_or(0));
    }
    Ok(Some(set))
}

/// Answers the query (or its count) from its rows.
pub(super) fn answer(
    all: &[DetailRecord],
    body: &[u8],
    params: &Params,
    count: bool,
    short_page: bool,
    cap: Option<u32>,
) -> Reply {
    let args = if body.iter().all(u8::is_ascii_whitespace) {
        serde_json::Map::new()
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(args)) => args,
            Ok(_) | Err(_) => return Reply::message(400, "Invalid JSON in request body"),
        }
    };
    let students = match ids(&args, "students_dcid") {
        Ok(set) => set,
        Err(reply) => return reply,
    };
    let guardians = match ids(&args, "guardian_id") {
        Ok(set) => set,
        Err(reply) => return reply,
    };
    let rows: Vec<&DetailRecord> = match &students {
        Some(students) => students
            .iter()
            .flat_map(|dcid| {
                let start = all.partition_point(|r| r.student_dcid < *dcid);
                let end = all.partition_point(|r| r.student_dcid <= *dcid);
                &all[start..end]
            })
            .collect(),
        None => all.iter().collect(),
    };
    let rows: Vec<&DetailRecord> = rows
        .into_iter()
        .filter(|r| {
            guardians
                .as_ref()
                .is_none_or(|g| g.contains(&r.guardian_id))
        })
        .collect();
    if count {
        return Reply::ok(&json!({ "count": rows.len() }));
    }
    let range = match page_range(params, rows.len(), 100, cap, true) {
        Ok(range) => range,
        Err(message) => return Reply::message(400, message),
    };
    let mut page = &rows[range];
    if short_page && !page.is_empty() {
        page = &page[..page.len() - 1];
    }
    let records: Vec<Value> = page.iter().map(|r| record_json(r)).collect();
    let mut answer = json!({ "name": "Students", "record": records, "@extensions": "" });
    if params
        .get("count")
        .is_some_and(|c| c.eq_ignore_ascii_case("true"))
    {
        answer["count"] = rows.len().into();
    }
    Reply::ok(&answer)
}

fn record_json(r: &DetailRecord) -> Value {
    let mut emailcontact = serde_json::Map::new();
    if let Some(email) = &r.email {
        emailcontact.insert("emailaddress".into(), email.clone().into());
    }
    json!({
        "id": r.student_dcid,
        "name": "Students",
        "tables": {
            "students": { "dcid": r.student_dcid.to_string() },
            "guardian": {
                "guardianid": r.guardian_id.to_string(),
                "firstname": r.first_name,
                "lastname": r.last_name,
                "state_guardiannumber": r.state_guardian_number,
            },
            "pcas_account": { "username": r.username },
            "pcas_emailcontact": emailcontact,
        }
    })
}
