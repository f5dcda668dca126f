//! Finding people in a district: the keys a student, guardian or staff member is found
//! by, and what a support desk's search text asks for.
//!
//! Names are found by prefix, folded ([`name_key`]: no accents, no case, no punctuation),
//! so `elise` finds `Élise` and `obr` finds `O'Brien`; e-mail addresses by the whole
//! address, any case; phone numbers in any format, compared in E.164 ([`e164`]); student
//! numbers and source ids exactly. A text is read as every one of those it could be
//! ([`SearchText::parse`]), and each reading is a lane the store answers from an index.

use unicode_normalization::UnicodeNormalization;

use crate::error::{FieldError, ValidationErrors};

/// The longest search text.
pub const MAX_SEARCH_TEXT: usize = 200;

/// A name as it is searched: letters and digits only, accents and case folded, words one
/// space apart. `"  Ébène-O'Neil "` → `"ebeneoneil"`; `"Mary  Ann"` → `"mary ann"`.
pub fn name_key(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut space = false;
    for c in name.nfd() {
        if c.is_whitespace() {
            space = !out.is_empty();
        } else if c.is_alphanumeric() {
            if space {
                out.push(' ');
                space = false;
            }
            out.extend(c.to_lowercase());
        }
        // Combining marks (accents once decomposed) and punctuation are dropped.
    }
    out
}

/// A phone number in E.164 (`+15551234567`), read as North American when it carries no
/// country code (ten digits, or eleven starting with 1); `None` when it is no phone
/// number (fewer than seven or more than fifteen digits, or letters in it).
pub fn e164(number: &str) -> Option<String> {
    let text = number.trim();
    // An extension is not part of the number.
    let text = text.split(['x', 'X', '#']).next().unwrap_or_default();
    let international = text.starts_with('+') || text.starts_with("011");
    let mut digits = String::with_capacity(16);
    for c in text.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '+' | '-' | '.' | '(' | ')' | ' ' | '/' => {}
            _ => return None,
        }
    }
    let digits = if text.starts_with("011") {
        digits[3..].to_owned()
    } else {
        digits
    };
    if international {
        return (7..=15)
            .contains(&digits.len())
            .then(|| format!("+{digits}"));
    }
    match digits.len() {
        10 => Some(format!("+1{digits}")),
        11 if digits.starts_with('1') => Some(format!("+{digits}")),
        _ => None,
    }
}

/// What a search text can be, each a way the store looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText {
    /// The text as given, trimmed: a source id or a student number, compared exactly.
    pub exact: Option<String>,
    /// The text as an e-mail address, lower case.
    pub email: Option<String>,
    /// The text as a phone number, in E.164.
    pub phone: Option<String>,
    /// The text as a name: the first word's prefix is looked up, the others must begin
    /// another part of the same name.
    pub name: Vec<String>,
}

impl SearchText {
    /// Reads a caller's search text; `field` names it in errors.
    pub fn parse(field: &str, text: &str) -> Result<SearchText, ValidationErrors> {
        let text = text.trim();
        let refuse = |message: String| ValidationErrors(vec![FieldError::new(field, message)]);
        if text.is_empty() {
            return Err(refuse(
                "is empty: give a name, e-mail, phone, student number or source id".into(),
            ));
        }
        if text.chars().count() > MAX_SEARCH_TEXT {
            return Err(refuse(format!(
                "is longer than {MAX_SEARCH_TEXT} characters"
            )));
        }
        if text.chars().any(char::is_control) {
            return Err(refuse("holds a control character".into()));
        }
        let one_word = !text.contains(char::is_whitespace);
        let email = (one_word && text.contains('@')).then(|| text.to_lowercase());
        let phone = e164(text);
        let name = if email.is_some() {
            vec![]
        } else {
            name_key(text)
                .split(' ')
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect()
        };
        // A name lane needs a letter: digits alone are numbers, not names.
        let name = if name.iter().any(|w| w.chars().any(char::is_alphabetic)) {
            name
        } else {
            vec![]
        };
        Ok(SearchText {
            exact: one_word.then(|| text.to_owned()),
            email,
            phone,
            name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_accents_case_and_punctuation() {
        assert_eq!(name_key("  Ébène-O'Neil "), "ebeneoneil");
        assert_eq!(name_key("Mary  Ann"), "mary ann");
        assert_eq!(name_key("José"), "jose");
        assert_eq!(name_key("Łukasz"), "łukasz");
        assert_eq!(name_key(""), "");
    }

    #[test]
    fn phones_in_any_format_are_one_number() {
        for given in [
            "(555) 123-4567",
            "555.123.4567",
            "5551234567",
            "1-555-123-4567",
            "+1 555 123 4567",
            "555-123-4567 x12",
        ] {
            assert_eq!(e164(given).as_deref(), Some("+15551234567"), "{given}");
        }
        assert_eq!(e164("+44 20 7946 0958").as_deref(), Some("+442079460958"));
        assert_eq!(
            e164("011 44 20 7946 0958").as_deref(),
            Some("+442079460958")
        );
        assert_eq!(e164("12345"), None);
        assert_eq!(e164("555-CALL-NOW"), None);
        assert_eq!(e164(""), None);
    }

    #[test]
    fn a_text_is_read_every_way_it_can_be() {
        let t = SearchText::parse("query", " Ana@School.org ").unwrap();
        assert_eq!(t.email.as_deref(), Some("ana@school.org"));
        assert_eq!(t.exact.as_deref(), Some("Ana@School.org"));
        assert!(t.name.is_empty() && t.phone.is_none());

        let t = SearchText::parse("query", "5551234567").unwrap();
        assert_eq!(t.phone.as_deref(), Some("+15551234567"));
        assert_eq!(t.exact.as_deref(), Some("5551234567"));
        assert!(t.name.is_empty(), "digits are no name");

        let t = SearchText::parse("query", "García jo").unwrap();
        assert_eq!(t.name, ["garcia", "jo"]);
        assert_eq!(t.exact, None, "two words are no id");

        assert!(SearchText::parse("query", "   ").is_err());
        assert!(SearchText::parse("query", &"a".repeat(201)).is_err());
        assert!(SearchText::parse("query", "ab\u{7}").is_err());
    }
}
