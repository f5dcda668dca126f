//! Finding people (`SearchRoster`): each student, guardian and staff member keeps the keys
//! it is found by, and each key has an index, so a search reads an index range and never
//! scans a district.
//!
//! - `first_key`, `last_key` on `students`, `guardians` and `staff`: the name folded as
//!   [`model::search::name_key`] folds it (byte order in PostgreSQL, `COLLATE "C"`, so a
//!   prefix is one index range);
//! - `home_phone_e164`, `mobile_phone_e164` on `guardians`: the numbers in E.164
//!   ([`model::search::e164`]), empty when a number is none;
//! - indexes on those, on `lower(e-mail)` of all three, and on the student number, each
//!   ending in `id`: a lane reads its rows in `(key, id)` order straight from its index
//!   (without `id`, SQLite would rather walk the primary key in `id` order and test each
//!   row).
//!
//! Rows already stored get their keys here, a page at a time.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables that gain name keys, with their name columns.
const NAMED: [(&str, &str, &str); 3] = [
    ("students", "legal_first_name", "legal_last_name"),
    ("guardians", "first_name", "last_name"),
    ("staff", "first_name", "last_name"),
];

/// Rows given their keys per statement page.
const PAGE: u64 = 1_000;

/// The indexes, as `(name, table, columns)`.
const INDEXES: [(&str, &str, &str); 13] = [
    (
        "ix_students_first_key",
        "students",
        "district_id, first_key, id",
    ),
    (
        "ix_students_last_key",
        "students",
        "district_id, last_key, id",
    ),
    (
        "ix_students_number",
        "students",
        "district_id, student_number, id",
    ),
    (
        "ix_students_org_email",
        "students",
        "district_id, lower(org_email), id",
    ),
    (
        "ix_students_personal_email",
        "students",
        "district_id, lower(personal_email), id",
    ),
    (
        "ix_guardians_first_key",
        "guardians",
        "district_id, first_key, id",
    ),
    (
        "ix_guardians_last_key",
        "guardians",
        "district_id, last_key, id",
    ),
    (
        "ix_guardians_lower_email",
        "guardians",
        "district_id, lower(email), id",
    ),
    (
        "ix_guardians_home_e164",
        "guardians",
        "district_id, home_phone_e164, id",
    ),
    (
        "ix_guardians_mobile_e164",
        "guardians",
        "district_id, mobile_phone_e164, id",
    ),
    ("ix_staff_first_key", "staff", "district_id, first_key, id"),
    ("ix_staff_last_key", "staff", "district_id, last_key, id"),
    (
        "ix_staff_lower_email",
        "staff",
        "district_id, lower(email), id",
    ),
];

fn add_column(backend: DbBackend, table: &str, column: &str) -> String {
    let collate = if backend == DbBackend::Postgres {
        " COLLATE \"C\""
    } else {
        ""
    };
    format!("ALTER TABLE {table} ADD COLUMN {column} TEXT{collate} NOT NULL DEFAULT ''")
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        for (table, _, _) in NAMED {
            for column in ["first_key", "last_key"] {
                db.execute_unprepared(&add_column(backend, table, column))
                    .await?;
            }
        }
        for column in ["home_phone_e164", "mobile_phone_e164"] {
            db.execute_unprepared(&add_column(backend, "guardians", column))
                .await?;
        }
        for (table, first, last) in NAMED {
            fill(db, backend, table, first, last).await?;
        }
        for (name, table, columns) in INDEXES {
            db.execute_unprepared(&format!("CREATE INDEX {name} ON {table} ({columns})"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, _, _) in INDEXES {
            db.execute_unprepared(&format!("DROP INDEX {name}")).await?;
        }
        for column in ["home_phone_e164", "mobile_phone_e164"] {
            db.execute_unprepared(&format!("ALTER TABLE guardians DROP COLUMN {column}"))
                .await?;
        }
        for (table, _, _) in NAMED {
            for column in ["first_key", "last_key"] {
                db.execute_unprepared(&format!("ALTER TABLE {table} DROP COLUMN {column}"))
                    .await?;
            }
        }
        Ok(())
    }
}

/// Gives the rows of `table` their keys, a page at a time in key order.
async fn fill<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    backend: DbBackend,
    table: &str,
    first: &str,
    last: &str,
) -> Result<(), DbErr> {
    let phones = table == "guardians";
    let [a, b, c] = match backend {
        DbBackend::Postgres => ["$1", "$1", "$2"],
        _ => ["?", "?", "?"],
    };
    let extra = if phones {
        ", home_phone, mobile_phone"
    } else {
        ""
    };
    let mut after: (String, String) = (String::new(), String::new());
    loop {
        let rows = db
            .query_all(Statement::from_sql_and_values(
                backend,
                format!(
                    "SELECT district_id, id, {first}, {last}{extra} FROM {table} \
                     WHERE district_id > {a} OR (district_id = {b} AND id > {c}) \
                     ORDER BY district_id, id LIMIT {PAGE}"
                ),
                page_values(backend, &after),
            ))
            .await?;
        let Some(last_row) = rows.last() else {
            return Ok(());
        };
        after = (last_row.try_get_by_index(0)?, last_row.try_get_by_index(1)?);
        let txn = db.begin().await?;
        for row in &rows {
            let district: String = row.try_get_by_index(0)?;
            let id: String = row.try_get_by_index(1)?;
            let first_name: String = row.try_get_by_index(2)?;
            let last_name: String = row.try_get_by_index(3)?;
            let mut sets = vec![
                ("first_key", model::search::name_key(&first_name)),
                ("last_key", model::search::name_key(&last_name)),
            ];
            if phones {
                let home: String = row.try_get_by_index(4)?;
                let mobile: String = row.try_get_by_index(5)?;
                sets.push((
                    "home_phone_e164",
                    model::search::e164(&home).unwrap_or_default(),
                ));
                sets.push((
                    "mobile_phone_e164",
                    model::search::e164(&mobile).unwrap_or_default(),
                ));
            }
            let mut update = Query::update();
            update.table(Alias::new(table));
            for (column, value) in sets {
                update.value(Alias::new(column), value);
            }
            update
                .and_where(Expr::col(Alias::new("district_id")).eq(district))
                .and_where(Expr::col(Alias::new("id")).eq(id));
            txn.execute(backend.build(&update)).await?;
        }
        txn.commit().await?;
    }
}

/// The values of a page's `WHERE`: the last key of the page before, once per placeholder.
fn page_values(
    backend: DbBackend,
    after: &(String, String),
) -> Vec<sea_orm_migration::sea_orm::Value> {
    match backend {
        DbBackend::Postgres => vec![after.0.clone().into(), after.1.clone().into()],
        _ => vec![
            after.0.clone().into(),
            after.0.clone().into(),
            after.1.clone().into(),
        ],
    }
}
