//! The database's own limit, for the benchmark: every row of some tables taken out
//! whole, and loaded into another store of the same schema the fastest plain way each
//! database has — prepared multi-row inserts in one transaction on SQLite, `COPY` in one
//! transaction on PostgreSQL — and how many rows and bytes each table holds.
//!
//! Nothing here is part of a sync: it measures what a sync is compared against.

use futures::TryStreamExt;
use sqlx::{Column, Row, TypeInfo, ValueRef};

use crate::{Backend, Store, StoreError};

/// The tables a sync leaves its roster in, and its change log: what the raw load is
/// compared with.
pub const ROSTER_TABLES: &[&str] = &[
    "schools",
    "students",
    "guardians",
    "contacts",
    "links",
    "form_authorships",
    "staff",
    "classrooms",
    "enrollments",
    "change_log",
];

/// What the roster's rows refer to (the district, its runs): loaded first, a few rows.
pub const PARENT_TABLES: &[&str] = &["districts", "sync_runs"];

/// The tables a sync keeps about itself: runs, their plans and staged pulls.
pub const RUN_TABLES: &[&str] = &["sync_runs", "run_plan", "staged_records"];

/// One SQLite value.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq)]
enum Rows {
    /// SQLite: the column names and every row.
    Cells {
        columns: Vec<String>,
        rows: Vec<Vec<Cell>>,
    },
    /// PostgreSQL: the table in `COPY`'s text format.
    Copy { data: Vec<u8>, rows: u64 },
}

/// Tables taken out of a store, to be loaded into another.
#[derive(Debug, Clone, PartialEq)]
pub struct TableDump {
    backend: Backend,
    tables: Vec<(String, Rows)>,
}

impl TableDump {
    /// Rows in all.
    pub fn rows(&self) -> u64 {
        self.tables
            .iter()
            .map(|(_, rows)| match rows {
                Rows::Cells { rows, .. } => rows.len() as u64,
                Rows::Copy { rows, .. } => *rows,
            })
            .sum()
    }
}

fn raw_err(e: sqlx::Error) -> StoreError {
    StoreError::Database(sea_orm::DbErr::Custom(e.to_string()))
}

/// SQLite's limit on bound parameters in one statement.
const SQLITE_MAX_PARAMS: usize = 32_766;
/// Rows per multi-row insert on SQLite: as many as the parameters allow, at most this.
const SQLITE_ROWS_PER_INSERT: usize = 1_000;

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Store {
    /// Every row of `tables`, as stored.
    pub async fn dump_tables(&self, tables: &[&str]) -> Result<TableDump, StoreError> {
        let mut out = Vec::new();
        for table in tables {
            let rows = match self.backend() {
                Backend::Sqlite => self.sqlite_rows(table).await?,
                Backend::Postgres => {
                    let pool = self.db().get_postgres_connection_pool();
                    let mut conn = pool.acquire().await.map_err(raw_err)?;
                    let mut stream = conn
                        .copy_out_raw(&format!("COPY {} TO STDOUT", quote(table)))
                        .await
                        .map_err(raw_err)?;
                    let mut data = Vec::new();
                    while let Some(chunk) = stream.try_next().await.map_err(raw_err)? {
                        data.extend_from_slice(&chunk);
                    }
                    let rows = data.iter().filter(|b| **b == b'\n').count() as u64;
                    Rows::Copy { data, rows }
                }
            };
            out.push(((*table).to_owned(), rows));
        }
        Ok(TableDump {
            backend: self.backend(),
            tables: out,
        })
    }

    async fn sqlite_rows(&self, table: &str) -> Result<Rows, StoreError> {
        let pool = self.db().get_sqlite_connection_pool();
        let found = sqlx::query(&format!("SELECT * FROM {}", quote(table)))
            .fetch_all(pool)
            .await
            .map_err(raw_err)?;
        let columns = match found.first() {
            Some(row) => row.columns().iter().map(|c| c.name().to_owned()).collect(),
            None => Vec::new(),
        };
        let mut rows = Vec::with_capacity(found.len());
        for row in &found {
            let mut cells = Vec::with_capacity(columns.len());
            for i in 0..columns.len() {
                let value = row.try_get_raw(i).map_err(raw_err)?;
                let cell = if value.is_null() {
                    Cell::Null
                } else {
                    match value.type_info().name() {
                        "INTEGER" | "BOOLEAN" => Cell::Int(row.try_get(i).map_err(raw_err)?),
                        "REAL" => Cell::Real(row.try_get(i).map_err(raw_err)?),
                        "BLOB" => Cell::Blob(row.try_get(i).map_err(raw_err)?),
                        _ => Cell::Text(row.try_get(i).map_err(raw_err)?),
                    }
                };
                cells.push(cell);
            }
            rows.push(cells);
        }
        Ok(Rows::Cells { columns, rows })
    }

    /// Loads `dump` into this store (same schema, tables empty) in one transaction; the
    /// rows loaded.
    pub async fn bulk_load(&self, dump: &TableDump) -> Result<u64, StoreError> {
        if dump.backend != self.backend() {
            return Err(StoreError::Database(sea_orm::DbErr::Custom(
                "a dump loads into a store of the same database kind".into(),
            )));
        }
        match self.backend() {
            Backend::Sqlite => {
                let pool = self.db().get_sqlite_connection_pool();
                let mut tx = pool.begin().await.map_err(raw_err)?;
                for (table, rows) in &dump.tables {
                    let Rows::Cells { columns, rows } = rows else {
                        continue;
                    };
                    if rows.is_empty() {
                        continue;
                    }
                    let per = (SQLITE_MAX_PARAMS / columns.len()).min(SQLITE_ROWS_PER_INSERT);
                    let one = format!("({})", vec!["?"; columns.len()].join(","));
                    let head = format!(
                        "INSERT INTO {} ({}) VALUES ",
                        quote(table),
                        columns
                            .iter()
                            .map(|c| quote(c))
                            .collect::<Vec<_>>()
                            .join(",")
                    );
                    for chunk in rows.chunks(per) {
                        let sql = format!("{head}{}", vec![one.as_str(); chunk.len()].join(","));
                        let mut query = sqlx::query(&sql);
                        for row in chunk {
                            for cell in row {
                                query = match cell {
                                    Cell::Null => query.bind(Option::<i64>::None),
                                    Cell::Int(v) => query.bind(*v),
                                    Cell::Real(v) => query.bind(*v),
                                    Cell::Text(v) => query.bind(v.as_str()),
                                    Cell::Blob(v) => query.bind(v.as_slice()),
                                };
                            }
                        }
                        query.execute(&mut *tx).await.map_err(raw_err)?;
                    }
                }
                tx.commit().await.map_err(raw_err)?;
            }
            Backend::Postgres => {
                let pool = self.db().get_postgres_connection_pool();
                let mut tx = pool.begin().await.map_err(raw_err)?;
                for (table, rows) in &dump.tables {
                    let Rows::Copy { data, .. } = rows else {
                        continue;
                    };
                    let mut copy = tx
                        .copy_in_raw(&format!("COPY {} FROM STDIN", quote(table)))
                        .await
                        .map_err(raw_err)?;
                    copy.send(data.as_slice()).await.map_err(raw_err)?;
                    copy.finish().await.map_err(raw_err)?;
                }
                tx.commit().await.map_err(raw_err)?;
            }
        }
        Ok(dump.rows())
    }

    /// How many rows `table` holds.
    pub async fn count_rows(&self, table: &str) -> Result<u64, StoreError> {
        use sea_orm::ConnectionTrait;
        let sql = format!("SELECT COUNT(*) AS n FROM {}", quote(table));
        let row = self
            .db()
            .query_one(sea_orm::Statement::from_string(
                self.db().get_database_backend(),
                sql,
            ))
            .await?;
        let n: i64 = match row {
            Some(row) => row.try_get("", "n")?,
            None => 0,
        };
        Ok(n.max(0) as u64)
    }

    /// Each table's rows and bytes on disk, its indexes included.
    pub async fn table_sizes(&self, tables: &[&str]) -> Result<Vec<TableSize>, StoreError> {
        let mut out = Vec::new();
        for table in tables {
            let bytes: i64 = match self.backend() {
                Backend::Sqlite => sqlx::query_scalar::<_, Option<i64>>(
                    "SELECT SUM(pgsize) FROM dbstat WHERE name IN \
                     (SELECT name FROM sqlite_master WHERE tbl_name = ?1)",
                )
                .bind(*table)
                .fetch_one(self.db().get_sqlite_connection_pool())
                .await
                .map_err(raw_err)?
                .unwrap_or(0),
                Backend::Postgres => {
                    sqlx::query_scalar("SELECT pg_total_relation_size($1::regclass)")
                        .bind(*table)
                        .fetch_one(self.db().get_postgres_connection_pool())
                        .await
                        .map_err(raw_err)?
                }
            };
            out.push(TableSize {
                table: (*table).to_owned(),
                rows: self.count_rows(table).await?,
                bytes: bytes.max(0) as u64,
            });
        }
        Ok(out)
    }
}

/// A table's rows and its bytes on disk (indexes included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSize {
    pub table: String,
    pub rows: u64,
    pub bytes: u64,
}

/// The URL of database `name` on the server `admin_url` points at.
fn database_on(admin_url: &str, name: &str) -> String {
    let (base, _) = admin_url.rsplit_once('/').unwrap_or((admin_url, ""));
    format!("{base}/{name}")
}

/// Creates database `name` (dropping one of that name first) on the PostgreSQL server
/// `admin_url` points at; its URL.
pub async fn create_database(admin_url: &str, name: &str) -> Result<String, StoreError> {
    use sea_orm::ConnectionTrait;
    let conn = sea_orm::Database::connect(admin_url).await?;
    conn.execute_unprepared(&format!(
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        quote(name)
    ))
    .await?;
    conn.execute_unprepared(&format!("CREATE DATABASE {}", quote(name)))
        .await?;
    let _ = conn.close().await;
    Ok(database_on(admin_url, name))
}

/// Drops database `name` on the server `admin_url` points at.
pub async fn drop_database(admin_url: &str, name: &str) -> Result<(), StoreError> {
    use sea_orm::ConnectionTrait;
    let conn = sea_orm::Database::connect(admin_url).await?;
    conn.execute_unprepared(&format!(
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        quote(name)
    ))
    .await?;
    let _ = conn.close().await;
    Ok(())
}
