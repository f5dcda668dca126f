//! The one way e-mails are compared. Seed 001 rules 3 and 5 match "the same email"; the
//! seed does not say how, so we read it as: surrounding whitespace ignored, and letters
//! compared without case (sources and people capitalise addresses inconsistently, and
//! mail providers treat addresses case-insensitively in practice).

/// An e-mail in the form it is compared in: trimmed and lowercased.
pub fn normalize(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Whether two e-mails are "the same email" in the sense of seed 001. Empty addresses
/// never match anything, not even each other.
pub fn same_email(a: &str, b: &str) -> bool {
    let (a, b) = (normalize(a), normalize(b));
    !a.is_empty() && a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_ignores_case_and_surrounding_space() {
        assert!(same_email(" Pat.Doe@Example.com ", "pat.doe@example.com"));
        assert!(!same_email("pat.doe@example.com", "pat_doe@example.com"));
    }

    #[test]
    fn empty_addresses_never_match() {
        assert!(!same_email("", ""));
        assert!(!same_email("  ", "pat@example.com"));
    }
}
