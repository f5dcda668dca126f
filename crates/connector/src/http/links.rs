//! What an answer's `Link` header (RFC 8288) says of the pages around it.

use super::Answer;

impl Answer {
    /// Whether a `Link` header (RFC 8288) holds a link of relation `rel`
    /// (`<…?offset=200>; rel="next"`), in any of its values.
    pub fn has_link(&self, rel: &str) -> bool {
        self.headers
            .get_all(reqwest::header::LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|link| {
                link.split(';').skip(1).any(|param| {
                    let Some((name, value)) = param.split_once('=') else {
                        return false;
                    };
                    name.trim().eq_ignore_ascii_case("rel")
                        && value
                            .trim()
                            .trim_matches('"')
                            .split_ascii_whitespace()
                            .any(|r| r.eq_ignore_ascii_case(rel))
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(links: &[&str]) -> Answer {
        let mut headers = reqwest::header::HeaderMap::new();
        for l in links {
            headers.append(
                reqwest::header::LINK,
                reqwest::header::HeaderValue::from_str(l).expect("header"),
            );
        }
        Answer {
            status: reqwest::StatusCode::OK,
            headers,
            body: bytes::Bytes::new(),
        }
    }

    #[test]
    fn a_next_link_is_found_in_any_value_and_spelling() {
        let one = answer(&[
            r#"<https://h/users?limit=100&offset=200>; rel="next", <https://h/users?offset=900>; rel="last""#,
        ]);
        assert!(one.has_link("next") && one.has_link("last") && !one.has_link("prev"));
        let split = answer(&[
            "<https://h/u?offset=0>; rel=first",
            "<https://h/u?offset=5>; REL=\"prev next\"",
        ]);
        assert!(split.has_link("next") && split.has_link("prev"));
        let last =
            answer(&[r#"<https://h/u?offset=0>; rel="first", <https://h/u?offset=0>; rel="last""#]);
        assert!(!last.has_link("next"));
        assert!(!answer(&[]).has_link("next"));
    }
}
