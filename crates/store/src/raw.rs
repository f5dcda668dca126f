//! The database's own limit, for the benchmark: every row of some tables written out to a
//! file, and loaded from it into another store of the same schema the fastest plain way
//! each database has — prepared multi-row inserts in one transaction on SQLite, `COPY` in
//! one transaction on PostgreSQL — and how many rows and bytes each table holds.
//!
//! Rows pass through in chunks both ways, so a district of any size is taken out and
//! loaded in the same memory. Nothing here is part of a sync: it measures what a sync is
//! compared against.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use futures::TryStreamExt;
use sqlx::{Column, Row, TypeInfo, ValueRef};

use crate::{Backend, Store, StoreError};

/// One SQLite value.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

const TAG_NULL: u8 = 0;
const TAG_INT: u8 = 1;
const TAG_REAL: u8 = 2;
const TAG_TEXT: u8 = 3;
const TAG_BLOB: u8 = 4;

impl Cell {
    fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
        match self {
            Cell::Null => out.write_all(&[TAG_NULL]),
            Cell::Int(v) => {
                out.write_all(&[TAG_INT])?;
                out.write_all(&v.to_le_bytes())
            }
            Cell::Real(v) => {
                out.write_all(&[TAG_REAL])?;
                out.write_all(&v.to_le_bytes())
            }
            Cell::Text(v) => write_bytes(out, TAG_TEXT, v.as_bytes()),
            Cell::Blob(v) => write_bytes(out, TAG_BLOB, v),
        }
    }

    fn read(input: &mut impl Read) -> std::io::Result<Cell> {
        let mut tag = [0u8; 1];
        input.read_exact(&mut tag)?;
        let mut word = [0u8; 8];
        Ok(match tag[0] {
            TAG_NULL => Cell::Null,
            TAG_INT => {
                input.read_exact(&mut word)?;
                Cell::Int(i64::from_le_bytes(word))
            }
            TAG_REAL => {
                input.read_exact(&mut word)?;
                Cell::Real(f64::from_le_bytes(word))
            }
            TAG_TEXT => Cell::Text(
                String::from_utf8(read_bytes(input)?)
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?,
            ),
            TAG_BLOB => Cell::Blob(read_bytes(input)?),
            other => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("a dumped cell has an unknown tag {other}"),
                ))
            }
        })
    }
}

fn write_bytes(out: &mut impl Write, tag: u8, bytes: &[u8]) -> std::io::Result<()> {
    let len = u32::try_from(bytes.len())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "a cell over 4 GiB"))?;
    out.write_all(&[tag])?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(bytes)
}

fn read_bytes(input: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    input.read_exact(&mut len)?;
    let mut bytes = vec![0u8; u32::from_le_bytes(len) as usize];
    input.read_exact(&mut bytes)?;
    Ok(bytes)
}

/// One table in a dump file: its columns (SQLite), its rows, and where its section ends.
#[derive(Debug, Clone, PartialEq)]
struct DumpedTable {
    name: String,
    columns: Vec<String>,
    rows: u64,
    /// The section's length in the file: SQLite cells, or `COPY`'s text format.
    bytes: u64,
}

/// Tables taken out of a store into a file, one section a table in order, to be loaded
/// into another store of the same database kind.
#[derive(Debug, Clone, PartialEq)]
pub struct TableDump {
    backend: Backend,
    path: PathBuf,
    tables: Vec<DumpedTable>,
}

impl TableDump {
    /// Rows in all.
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }

    /// Bytes in the file.
    pub fn bytes(&self) -> u64 {
        self.tables.iter().map(|t| t.bytes).sum()
    }
}

fn raw_err(e: sqlx::Error) -> StoreError {
    StoreError::Database(sea_orm::DbErr::Custom(e.to_string()))
}

fn io_err(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Database(sea_orm::DbErr::Custom(format!(
        "dump file {}: {e}",
        path.display()
    )))
}

/// SQLite's limit on bound parameters in one statement.
const SQLITE_MAX_PARAMS: usize = 32_766;
/// Rows per multi-row insert on SQLite: as many as the parameters allow, at most this.
const SQLITE_ROWS_PER_INSERT: usize = 1_000;
/// Bytes sent to `COPY FROM` at a time.
const COPY_CHUNK: usize = 1 << 20;

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The cells of one SQLite row, by the value's own storage class.
fn sqlite_cells(row: &sqlx::sqlite::SqliteRow, width: usize) -> Result<Vec<Cell>, StoreError> {
    let mut cells = Vec::with_capacity(width);
    for i in 0..width {
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
    Ok(cells)
}

impl Store {
    /// Writes every row of `tables`, as stored, to a new file at `path`: one table after
    /// another, a row at a time.
    pub async fn dump_tables(&self, tables: &[&str], path: &Path) -> Result<TableDump, StoreError> {
        let file = File::create(path).map_err(|e| io_err(path, e))?;
        let mut out = BufWriter::with_capacity(COPY_CHUNK, file);
        let mut dumped = Vec::new();
        for table in tables {
            let entry = match self.backend() {
                Backend::Sqlite => self.dump_sqlite(table, path, &mut out).await?,
                Backend::Postgres => self.dump_postgres(table, path, &mut out).await?,
            };
            dumped.push(entry);
        }
        out.flush().map_err(|e| io_err(path, e))?;
        Ok(TableDump {
            backend: self.backend(),
            path: path.to_owned(),
            tables: dumped,
        })
    }

    async fn dump_sqlite(
        &self,
        table: &str,
        path: &Path,
        out: &mut impl Write,
    ) -> Result<DumpedTable, StoreError> {
        let pool = self.db().get_sqlite_connection_pool();
        let sql = format!("SELECT * FROM {}", quote(table));
        let mut found = sqlx::query(&sql).fetch(pool);
        let mut columns: Option<Vec<String>> = None;
        let (mut rows, mut bytes) = (0u64, 0u64);
        let mut counted = CountingWriter {
            inner: out,
            bytes: &mut bytes,
        };
        while let Some(row) = found.try_next().await.map_err(raw_err)? {
            let width = columns
                .get_or_insert_with(|| row.columns().iter().map(|c| c.name().to_owned()).collect())
                .len();
            for cell in sqlite_cells(&row, width)? {
                cell.write(&mut counted).map_err(|e| io_err(path, e))?;
            }
            rows += 1;
        }
        Ok(DumpedTable {
            name: table.to_owned(),
            columns: columns.unwrap_or_default(),
            rows,
            bytes,
        })
    }

    async fn dump_postgres(
        &self,
        table: &str,
        path: &Path,
        out: &mut impl Write,
    ) -> Result<DumpedTable, StoreError> {
        let pool = self.db().get_postgres_connection_pool();
        let mut conn = pool.acquire().await.map_err(raw_err)?;
        let mut stream = conn
            .copy_out_raw(&format!("COPY {} TO STDOUT", quote(table)))
            .await
            .map_err(raw_err)?;
        let (mut rows, mut bytes) = (0u64, 0u64);
        while let Some(chunk) = stream.try_next().await.map_err(raw_err)? {
            // COPY's text format escapes a newline inside a value: each one ends a row.
            rows += chunk.iter().filter(|b| **b == b'\n').count() as u64;
            bytes += chunk.len() as u64;
            out.write_all(&chunk).map_err(|e| io_err(path, e))?;
        }
        Ok(DumpedTable {
            name: table.to_owned(),
            columns: Vec::new(),
            rows,
            bytes,
        })
    }

    /// Loads `dump` into this store (same schema, tables empty) in one transaction, a
    /// chunk of rows at a time; the rows loaded.
    pub async fn bulk_load(&self, dump: &TableDump) -> Result<u64, StoreError> {
        if dump.backend != self.backend() {
            return Err(StoreError::Database(sea_orm::DbErr::Custom(
                "a dump loads into a store of the same database kind".into(),
            )));
        }
        let path = dump.path.as_path();
        let file = File::open(path).map_err(|e| io_err(path, e))?;
        let mut input = BufReader::with_capacity(COPY_CHUNK, file);
        match self.backend() {
            Backend::Sqlite => {
                let pool = self.db().get_sqlite_connection_pool();
                let mut tx = pool.begin().await.map_err(raw_err)?;
                for table in &dump.tables {
                    if table.rows == 0 {
                        continue;
                    }
                    let width = table.columns.len();
                    let per = (SQLITE_MAX_PARAMS / width.max(1)).min(SQLITE_ROWS_PER_INSERT);
                    let one = format!("({})", vec!["?"; width].join(","));
                    let head = format!(
                        "INSERT INTO {} ({}) VALUES ",
                        quote(&table.name),
                        table
                            .columns
                            .iter()
                            .map(|c| quote(c))
                            .collect::<Vec<_>>()
                            .join(",")
                    );
                    let full = format!("{head}{}", vec![one.as_str(); per].join(","));
                    let mut left = table.rows;
                    let mut chunk: Vec<Cell> = Vec::with_capacity(per * width);
                    while left > 0 {
                        let take = left.min(per as u64) as usize;
                        chunk.clear();
                        for _ in 0..take * width {
                            chunk.push(Cell::read(&mut input).map_err(|e| io_err(path, e))?);
                        }
                        let short;
                        let sql = if take == per {
                            full.as_str()
                        } else {
                            short = format!("{head}{}", vec![one.as_str(); take].join(","));
                            short.as_str()
                        };
                        let mut query = sqlx::query(sql);
                        for cell in &chunk {
                            query = match cell {
                                Cell::Null => query.bind(Option::<i64>::None),
                                Cell::Int(v) => query.bind(*v),
                                Cell::Real(v) => query.bind(*v),
                                Cell::Text(v) => query.bind(v.as_str()),
                                Cell::Blob(v) => query.bind(v.as_slice()),
                            };
                        }
                        query.execute(&mut *tx).await.map_err(raw_err)?;
                        left -= take as u64;
                    }
                }
                tx.commit().await.map_err(raw_err)?;
            }
            Backend::Postgres => {
                let pool = self.db().get_postgres_connection_pool();
                let mut tx = pool.begin().await.map_err(raw_err)?;
                let mut buf = vec![0u8; COPY_CHUNK];
                for table in &dump.tables {
                    let mut copy = tx
                        .copy_in_raw(&format!("COPY {} FROM STDIN", quote(&table.name)))
                        .await
                        .map_err(raw_err)?;
                    let mut left = table.bytes;
                    while left > 0 {
                        let take = left.min(COPY_CHUNK as u64) as usize;
                        input
                            .read_exact(&mut buf[..take])
                            .map_err(|e| io_err(path, e))?;
                        copy.send(&buf[..take]).await.map_err(raw_err)?;
                        left -= take as u64;
                    }
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

/// Counts the bytes written through it.
struct CountingWriter<'a, W: Write> {
    inner: &'a mut W,
    bytes: &'a mut u64,
}

impl<W: Write> Write for CountingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        *self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
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
