//! What a caller may send, and how a caller's text comes back in an error.
//!
//! Every text and list a request carries has a limit here; each kind is checked by one
//! function, so a create and an update (or the CLI and the API) refuse the same things
//! the same way. README.md's "Limits" table lists them for callers.
//!
//! A caller's text is quoted back in an error only through [`echo`]: at most
//! [`ECHO_CHARS`] characters of it, escaped, with its full size when it was cut. A 3 MB id
//! thus makes an error of a few dozen bytes, not one no client accepts.

use std::collections::BTreeMap;

use crate::error::{FieldError, ValidationErrors};

/// The most characters of a caller's text an error quotes.
pub const ECHO_CHARS: usize = 40;

/// A district's name.
pub const NAME: usize = 200;
/// An id as the source spells it (`source_id` in reads).
pub const SOURCE_ID: usize = 255;
/// A caller's `request_id`.
pub const REQUEST_ID: usize = 128;
/// A `page_token`, or a change feed's `after` cursor (the server's own are far shorter).
pub const PAGE_TOKEN: usize = 512;
/// A time zone's name.
pub const TIME_ZONE: usize = 64;
/// A connector's kind.
pub const KIND: usize = 64;
/// The name of a connector setting or secret.
pub const SETTING_NAME: usize = 64;
/// A connector setting's value (a URL, a client id).
pub const SETTING_VALUE: usize = 2_048;
/// A connector secret's value.
pub const SECRET_VALUE: usize = 4_096;
/// Plain settings one connector takes.
pub const SETTINGS: usize = 32;
/// Secrets one connector takes.
pub const SECRETS: usize = 16;
/// Values in one selection (contact types, relationships, phone types).
pub const SELECTION_VALUES: usize = 50;
/// One selection value.
pub const SELECTION_VALUE: usize = 64;
/// Cells one district's access matrix overrides (4 rows × 4 capabilities), each once.
pub const ACCESS_OVERRIDES: usize = 16;
/// Paths in one `update_mask`.
pub const MASK_PATHS: usize = 64;
/// One `update_mask` path.
pub const MASK_PATH: usize = 128;
/// Districts one API key names.
pub const KEY_DISTRICTS: usize = 100;
/// Field violations one refusal lists; the rest are counted ("and N more").
pub const DETAILS: usize = 20;

/// `s` cut to at most `max` characters, an ellipsis marking the cut.
pub fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some((at, _)) => format!("{}…", &s[..at]),
    }
}

/// A caller's text as an error quotes it: escaped and in quotes, cut to
/// [`ECHO_CHARS`] characters, with its full size when cut
/// (`"aaaa…" (3000000 characters)`).
pub fn echo(s: &str) -> String {
    let n = s.chars().count();
    if n <= ECHO_CHARS {
        format!("{s:?}")
    } else {
        format!("{:?} ({n} characters)", cut(s, ECHO_CHARS))
    }
}

/// Whether `c` may not appear in a name or any text shown to people: control characters
/// (NUL, escape, CR, LF, …) and the bidirectional overrides that reorder what is shown.
pub fn is_hidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A one-line text of at most `max` characters without [`is_hidden`] characters.
pub fn text(path: &str, value: &str, max: usize) -> Result<(), FieldError> {
    let n = value.chars().count();
    if n > max {
        return Err(FieldError::new(
            path,
            format!("is {n} characters long; at most {max} are accepted"),
        ));
    }
    if let Some(c) = value.chars().find(|c| is_hidden(*c)) {
        return Err(FieldError::new(
            path,
            format!(
                "{} holds the control character {:?}: text here is one line of visible characters",
                echo(value),
                c
            ),
        ));
    }
    Ok(())
}

/// At most `max` entries.
pub fn count(path: &str, n: usize, max: usize) -> Result<(), FieldError> {
    if n > max {
        return Err(FieldError::new(
            path,
            format!("holds {n} entries; at most {max} are accepted"),
        ));
    }
    Ok(())
}

/// Reports each of `items` — a key and how an error shows it — whose key repeats an
/// earlier one's, by index, naming the first.
pub fn unique<K: Ord>(
    path: &str,
    items: impl IntoIterator<Item = (K, String)>,
    errors: &mut ValidationErrors,
) {
    let mut seen: BTreeMap<K, usize> = BTreeMap::new();
    for (i, (k, shown)) in items.into_iter().enumerate() {
        match seen.get(&k) {
            Some(first) => errors.push(
                format!("{path}[{i}]"),
                format!("{shown} repeats {path}[{first}]"),
            ),
            None => {
                seen.insert(k, i);
            }
        }
    }
}

/// `items` as one line naming at most `max` of them, the rest counted:
/// `a, b, c and 7 more` (with `", "` as the separator).
pub fn first_few(items: &[String], max: usize, separator: &str) -> String {
    let mut out = items
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join(separator);
    if items.len() > max {
        out.push_str(&format!(" and {} more", items.len() - max));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_echo_is_short_escaped_and_tells_the_full_size() {
        assert_eq!(echo("cbe"), "\"cbe\"");
        assert_eq!(echo("a\u{0}b"), "\"a\\0b\"");
        let huge = "x".repeat(3_000_000);
        let quoted = echo(&huge);
        assert!(quoted.len() < 80, "{quoted}");
        assert!(quoted.ends_with("(3000000 characters)"), "{quoted}");
        assert!(quoted.starts_with(&format!("\"{}…\"", "x".repeat(ECHO_CHARS))));
        // Characters, not bytes: a cut never splits one.
        let wide = "é".repeat(ECHO_CHARS + 1);
        assert!(echo(&wide).contains(&format!("({} characters)", ECHO_CHARS + 1)));
        assert_eq!(cut("abc", 2), "ab…");
        assert_eq!(cut("abc", 3), "abc");
    }

    #[test]
    fn text_is_refused_too_long_or_with_control_characters() {
        assert!(text("name", "Calgary Board of Education", NAME).is_ok());
        assert!(text("name", "École Saint-Jean", NAME).is_ok());
        for bad in [
            "a\0b",
            "red\u{1b}[31m",
            "two\r\nlines",
            "tab\there",
            "evil\u{202E}txt",
        ] {
            let err = text("name", bad, NAME).expect_err(bad);
            assert_eq!(err.path, "name");
            assert!(err.message.contains("control character"), "{err}");
        }
        let err = text("name", &"n".repeat(NAME + 1), NAME).expect_err("long");
        assert!(err.message.contains("at most 200"), "{err}");
        let err = text("name", &"n".repeat(3_000_000), NAME).expect_err("huge");
        assert!(err.message.len() < 100, "{err}");
    }

    #[test]
    fn lists_have_a_count_and_no_repeats() {
        assert!(count("values", 50, SELECTION_VALUES).is_ok());
        let err = count("values", 100_000, SELECTION_VALUES).expect_err("long");
        assert_eq!(err.message, "holds 100000 entries; at most 50 are accepted");
        let mut errors = ValidationErrors::new();
        unique(
            "abilities",
            ["read", "run", "read"].map(|a| (a, echo(a))),
            &mut errors,
        );
        assert_eq!(
            errors.to_string(),
            "abilities[2]: \"read\" repeats abilities[0]"
        );
    }

    #[test]
    fn a_few_problems_are_named_and_the_rest_counted() {
        let problems: Vec<String> = (0..25).map(|i| format!("p{i}")).collect();
        assert_eq!(first_few(&problems[..2], 3, "; "), "p0; p1");
        assert_eq!(first_few(&problems, 3, ", "), "p0, p1, p2 and 22 more");
    }
}
