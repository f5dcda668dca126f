//! Request parameters shared by the endpoints: the query string, the FIQL-like `q`
//! filter (`field==value`, `field==(a,b)`, `;` = AND) and paging.

/// The decoded query string.
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

    /// The first value of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A comma-separated parameter as trimmed, non-empty names.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// One `field==value` or `field==(a,b,…)` clause of a `q`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Clause {
    pub field: String,
    pub values: Vec<String>,
}

/// Parses a `q`: clauses joined by `;`, each an equality on one field. Other operators
/// (`=gt=`, …) are refused with the message to answer.
pub(super) fn parse_q(q: &str) -> Result<Vec<Clause>, String> {
    let mut clauses = Vec::new();
    for part in q.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((field, value)) = part.split_once("==") else {
            return Err(format!("Invalid query expression: {part}"));
        };
        let field = field.trim();
        if field.is_empty() || field.contains('=') {
            return Err(format!("Invalid query expression: {part}"));
        }
        let value = value.trim();
        let values = match value.strip_prefix('(').and_then(|v| v.strip_suffix(')')) {
            Some(list) => list.split(',').map(|v| v.trim().to_owned()).collect(),
            None => vec![value.to_owned()],
        };
        clauses.push(Clause {
            field: field.to_owned(),
            values,
        });
    }
    Ok(clauses)
}

/// What a table `q` clause asks of a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Test {
    /// `field==value` or `field==(a,b,…)`.
    In(Vec<String>),
    /// `field=ge=value`.
    AtLeast(String),
    /// `field=le=value`.
    AtMost(String),
}

impl Test {
    /// Whether a cell passes: numbers compare as numbers, other text as text.
    pub fn admits(&self, cell: &str) -> bool {
        let order = |bound: &str| match (cell.parse::<i64>(), bound.parse::<i64>()) {
            (Ok(a), Ok(b)) => a.cmp(&b),
            _ => cell.cmp(bound),
        };
        match self {
            Test::In(values) => values.iter().any(|v| v == cell),
            Test::AtLeast(bound) => order(bound).is_ge(),
            Test::AtMost(bound) => order(bound).is_le(),
        }
    }
}

/// A table `q` clause: a column and its test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TableClause {
    pub field: String,
    pub test: Test,
}

/// Parses a table `q`: clauses joined by `;`, each `==` (one value or a list), `=ge=` or
/// `=le=`. Lists are refused when `value_lists` is off, naming `q`, as a server that does
/// not take them would.
pub(super) fn parse_table_q(q: &str, value_lists: bool) -> Result<Vec<TableClause>, String> {
    let mut clauses = Vec::new();
    for part in q.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (field, test) = if let Some((field, value)) = part.split_once("=ge=") {
            (field, Test::AtLeast(value.trim().to_owned()))
        } else if let Some((field, value)) = part.split_once("=le=") {
            (field, Test::AtMost(value.trim().to_owned()))
        } else if let Some((field, value)) = part.split_once("==") {
            let value = value.trim();
            match value.strip_prefix('(').and_then(|v| v.strip_suffix(')')) {
                Some(_) if !value_lists => {
                    return Err(format!(
                        "Invalid value for parameter q: {part} (a list of values is not supported)"
                    ))
                }
                Some(list) => (
                    field,
                    Test::In(list.split(',').map(|v| v.trim().to_owned()).collect()),
                ),
                None => (field, Test::In(vec![value.to_owned()])),
            }
        } else {
            return Err(format!("Invalid query expression: {part}"));
        };
        let field = field.trim();
        if field.is_empty() || field.contains('=') {
            return Err(format!("Invalid query expression: {part}"));
        }
        clauses.push(TableClause {
            field: field.to_owned(),
            test,
        });
    }
    Ok(clauses)
}

/// The rows of one page: `page` is 1-based (default 1); `pagesize` defaults to
/// `default` and is capped at `max`; `0` means the default, or every row when
/// `zero_is_all` (a page of `max` rows when there is a `max`). Returns the range of row
/// positions, or the message to answer.
pub(super) fn page_range(
    params: &Params,
    total: usize,
    default: u32,
    max: Option<u32>,
    zero_is_all: bool,
) -> Result<std::ops::Range<usize>, String> {
    let number = |name: &str| -> Result<Option<u64>, String> {
        match params.get(name).map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v
                .parse::<u64>()
                .map(Some)
                .map_err(|_| format!("Invalid value for {name}: {v}")),
        }
    };
    let page = number("page")?.unwrap_or(1).max(1);
    let size = match number("pagesize")? {
        None => u64::from(default),
        Some(0) if zero_is_all => match max {
            None => return Ok(0..total),
            Some(max) => u64::from(max),
        },
        Some(0) => u64::from(default),
        Some(n) => n,
    };
    let size = match max {
        Some(max) => size.min(u64::from(max)),
        None => size,
    }
    .max(1);
    let start = (page - 1).saturating_mul(size).min(total as u64) as usize;
    let end = (start as u64).saturating_add(size).min(total as u64) as usize;
    Ok(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q_reads_lists_and_single_values() {
        let q = parse_q("school_enrollment.enroll_status_code==(-1,0);local_id==200311").unwrap();
        assert_eq!(q[0].field, "school_enrollment.enroll_status_code");
        assert_eq!(q[0].values, vec!["-1", "0"]);
        assert_eq!(q[1].values, vec!["200311"]);
        assert!(parse_q("grade_level=gt=5").is_err());
    }

    #[test]
    fn table_q_reads_lists_and_ranges_and_can_refuse_lists() {
        let q = parse_table_q("studentdcid==(4,10);personid=ge=7;personid=le=20", true).unwrap();
        assert_eq!(q[0].test, Test::In(vec!["4".into(), "10".into()]));
        assert!(q[1].test.admits("7") && !q[1].test.admits("6"));
        assert!(
            q[2].test.admits("9") && !q[2].test.admits("100"),
            "numbers, not text"
        );
        let refused = parse_table_q("studentdcid==(4,10)", false).expect_err("lists off");
        assert!(refused.contains("parameter q"), "{refused}");
        assert!(parse_table_q("studentdcid==4", false).is_ok());
    }

    #[test]
    fn pages_are_one_based_and_capped() {
        let p = Params::parse("page=2&pagesize=500");
        assert_eq!(
            page_range(&p, 250, 100, Some(100), false).unwrap(),
            100..200
        );
        let p = Params::parse("page=9&pagesize=7");
        assert_eq!(page_range(&p, 20, 100, Some(100), false).unwrap(), 20..20);
        let p = Params::parse("pagesize=0");
        assert_eq!(page_range(&p, 250, 100, None, true).unwrap(), 0..250);
        // A strict cap holds even "everything".
        assert_eq!(page_range(&p, 250, 100, Some(3), true).unwrap(), 0..3);
        assert!(page_range(&Params::parse("page=x"), 1, 1, None, false).is_err());
    }
}
