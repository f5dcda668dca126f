//! `GET /ws/schema/table/{table}` and `…/{table}/count`: any table of
//! [`super::tables::TABLES`], with a projection, a `q` of equality and range clauses,
//! paging, and
//! the plugin's field grants.

use serde_json::{json, Map, Value};

use super::auth::PluginState;
use super::query::{page_range, parse_table_q, Params, Test};
use super::reply::Reply;
use super::tables::{self, Table, TableSpec};

/// What a table request asks for, checked against the table before any row is read.
#[derive(Debug)]
pub(super) struct TableRequest {
    pub spec: &'static TableSpec,
    /// (column position, test)
    filters: Vec<(usize, Test)>,
    /// Column positions to answer; empty for a count.
    projection: Vec<usize>,
    count: bool,
}

/// Checks the table name, projection, `q` and grants. `Err` is the answer to give.
pub(super) fn prepare(
    name: &str,
    count: bool,
    params: &Params,
    plugin: &PluginState,
    value_lists: bool,
) -> Result<TableRequest, Reply> {
    if tables::NOT_SERVED
        .iter()
        .any(|t| t.eq_ignore_ascii_case(name))
    {
        return Err(Reply::message(
            405,
            "GET, POST and PUT are not allowed on table",
        ));
    }
    let Some(spec) = tables::spec(name) else {
        return Err(Reply::message(404, format!("Table not found: {name}")));
    };
    let position = |column: &str| {
        spec.columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(column))
            .ok_or_else(|| {
                Reply::invalid_field(format!(
                    "{column} is not valid column for table: {}",
                    spec.canonical
                ))
            })
    };
    let clauses = match params.get("q") {
        Some(q) => parse_table_q(q, value_lists).map_err(|m| Reply::message(400, m))?,
        None => Vec::new(),
    };
    let mut filters = Vec::new();
    for clause in clauses {
        filters.push((position(&clause.field)?, clause.test));
    }
    let mut projection = Vec::new();
    if !count {
        let Some(list) = params
            .get("projection")
            .map(str::trim)
            .filter(|p| !p.is_empty())
        else {
            return Err(Reply::message(
                400,
                "Missing required parameter: projection",
            ));
        };
        for column in list.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            if column == "*" {
                projection.extend(0..spec.columns.len());
            } else {
                projection.push(position(column)?);
            }
        }
        projection.sort_unstable();
        projection.dedup();
    }
    let touched = projection.iter().chain(filters.iter().map(|(c, _)| c));
    for &column in touched {
        let canonical = spec.columns[column];
        if !plugin.grants(spec.name, canonical) {
            return Err(Reply::json(
                403,
                &json!({
                    "message": "At least one column lacks sufficient permission",
                    "errors": [{ "code": "NoAccess", "field": canonical, "resource": spec.canonical }],
                }),
            ));
        }
    }
    Ok(TableRequest {
        spec,
        filters,
        projection,
        count,
    })
}

/// Answers a prepared request from the table.
pub(super) fn answer(
    table: &Table,
    request: &TableRequest,
    params: &Params,
    max_page_size: u32,
    short_page: bool,
) -> Reply {
    let rows = table.select(&request.filters);
    if request.count {
        return Reply::ok(&json!({ "count": rows.len() }));
    }
    let range = match page_range(
        params,
        rows.len(),
        max_page_size,
        Some(max_page_size),
        false,
    ) {
        Ok(range) => range,
        Err(message) => return Reply::message(400, message),
    };
    let mut page = &rows[range];
    if short_page && !page.is_empty() {
        page = &page[..page.len() - 1];
    }
    let name = request.spec.name;
    let records: Vec<Value> = page
        .iter()
        .map(|&i| {
            let mut cells = Map::new();
            for &column in &request.projection {
                if let Some(Some(value)) = table.rows[i].get(column) {
                    cells.insert(table.columns[column].clone(), Value::String(value.clone()));
                }
            }
            json!({ "id": table.keys[i], "name": name, "tables": { name: cells } })
        })
        .collect();
    Reply::ok(&json!({ "name": name, "record": records }))
}
