//! Course names for classrooms. A section carries only its `course_id`; the course's name
//! comes from `GET /ws/v1/course/{id}` → `{"course":{"id","course_number","course_name"}}`
//! ([SW] mennotech/powerschool-api-docs `plugins/powerschool-api-v1.md`; the Swagger schema
//! draws the course bare, so a bare object is read too).
//!
//! Contract: each distinct course id is read at most once per pull (a map of id → name,
//! ids only, lives as long as the pull), several at a time. A refusal — 403 (the plugin
//! may not read courses) or 404 (no such course, or no such resource) — leaves that
//! course unnamed and its classrooms keep the name they had without it; the first refusal
//! of a pull is one [`PullWarning`] naming its endpoint, never one per section. After a
//! 403 no more courses are asked (every one would be refused). Any other error fails the
//! pull, as every other read does.

use std::collections::HashMap;

use futures::StreamExt;
use serde::Deserialize;

use connector::{ConnectorError, PullWarning, Unavailable};

use crate::client::PsClient;
use crate::wire::Text;

/// `GET /ws/v1/course/{id}`: wrapped (as single `/ws/v1` resources are) or bare ([SW]).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum CourseAnswer {
    Wrapped { course: WireCourse },
    Bare(WireCourse),
}

#[derive(Debug, Default, Deserialize)]
struct WireCourse {
    #[serde(default)]
    course_name: Text,
}

/// The course names a pull has read.
#[derive(Debug, Default)]
pub(super) struct Courses {
    /// Course id → its name; `None` when the course was refused or has no name.
    names: HashMap<String, Option<String>>,
    /// A 403 said the plugin may not read courses: none are asked any more.
    forbidden: bool,
    /// The pull's one warning about refused courses has been given.
    warned: bool,
}

impl Courses {
    /// The name of course `id`, when it was read and has one.
    pub fn name(&self, id: &str) -> Option<&str> {
        self.names.get(id).and_then(|n| n.as_deref())
    }

    /// Reads the names of the courses among `ids` not read yet, `concurrency` at a
    /// time. Returns the pull's warning the first time a course is refused (403, 404);
    /// any other error is returned as it is and ends the pull.
    pub async fn learn<'a>(
        &mut self,
        client: &PsClient,
        concurrency: usize,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<Option<PullWarning>, ConnectorError> {
        if self.forbidden {
            return Ok(None);
        }
        let mut wanted: Vec<String> = ids
            .into_iter()
            .filter(|id| !id.is_empty() && *id != "0" && !self.names.contains_key(*id))
            .map(str::to_owned)
            .collect();
        wanted.sort();
        wanted.dedup();
        let mut reads = futures::stream::iter(wanted)
            .map(|id| async move {
                let read = client
                    .get::<CourseAnswer>(&format!("/ws/v1/course/{id}"), &[])
                    .await;
                (id, read)
            })
            .buffered(concurrency.max(1));
        let mut warning = None;
        while let Some((id, read)) = reads.next().await {
            let name = match read {
                Ok(CourseAnswer::Wrapped { course } | CourseAnswer::Bare(course)) => {
                    Some(course.course_name.as_str().to_owned()).filter(|n| !n.is_empty())
                }
                Err(e) => {
                    let Some((status, reason)) = Unavailable::refusal(&e) else {
                        return Err(e);
                    };
                    self.forbidden |= status == 403;
                    if !self.warned {
                        self.warned = true;
                        warning = Some(refused(&id, &e, reason));
                    }
                    None
                }
            };
            self.names.insert(id, name);
        }
        Ok(warning)
    }
}

/// The pull's warning about a refused course read.
fn refused(id: &str, e: &ConnectorError, reason: &str) -> PullWarning {
    let endpoint = e.endpoint().unwrap_or_default().to_owned();
    let message = format!(
        "course names not read: {reason}; a classroom whose course cannot be read is named by its course id"
    );
    tracing::warn!(endpoint = %endpoint, course = id, "{message}");
    PullWarning {
        endpoint,
        record: format!("course {id}"),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_course_answer_is_read_wrapped_or_bare() {
        let names: Vec<String> = [
            r#"{"course":{"id":74,"course_number":"MAT07","course_name":"Mathematics 7"}}"#,
            r#"{"id":74,"course_number":"MAT07","course_name":"Mathematics 7"}"#,
        ]
        .iter()
        .map(
            |json| match serde_json::from_str::<CourseAnswer>(json).expect("parses") {
                CourseAnswer::Wrapped { course } | CourseAnswer::Bare(course) => {
                    course.course_name.as_str().to_owned()
                }
            },
        )
        .collect();
        assert_eq!(names, ["Mathematics 7", "Mathematics 7"]);
    }
}
