//! Statements written by hand (where the query builder cannot say it: expression keys,
//! correlated subqueries, `RETURNING`): each value bound once per use, with the
//! placeholder its backend writes (`$n` on PostgreSQL, `?` on SQLite, where placeholders
//! are positional, so a value used twice is bound twice).

use sea_orm::{DbBackend, Statement, Value};

pub(crate) struct Params {
    backend: DbBackend,
    values: Vec<Value>,
}

impl Params {
    pub(crate) fn new(backend: DbBackend) -> Self {
        Params {
            backend,
            values: Vec::new(),
        }
    }

    /// Binds `v` and answers the placeholder that names it.
    pub(crate) fn bind(&mut self, v: impl Into<Value>) -> String {
        self.values.push(v.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".into(),
        }
    }

    /// The statement `sql` with the values bound so far.
    pub(crate) fn statement(self, sql: String) -> Statement {
        Statement::from_sql_and_values(self.backend, sql, self.values)
    }
}
