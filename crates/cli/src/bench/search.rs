//! The bench's search step: support finding students by each key in the synced district.

use std::time::{Duration, Instant};

use engine::Engine;
use model::ids::{DistrictId, StudentId};
use model::search::SearchText;

/// How long searches took, per call, sorted.
pub struct Searches {
    pub times: Vec<Duration>,
    /// Searches that did not find the student they were made from.
    pub missed: usize,
}

/// Searches for each of `students` by the start of its last name, its student number, its
/// source id and its e-mail address, one page (50) each, one call at a time.
pub async fn time_searches(
    engine: &Engine,
    district: &DistrictId,
    students: &[StudentId],
) -> anyhow::Result<Searches> {
    let store = engine.store();
    let mut times = Vec::with_capacity(students.len() * 4);
    let mut missed = 0;
    for id in students {
        let s = store.get_student(district, *id).await?;
        let prefix: String = s.legal_last_name.chars().take(3).collect();
        // A name's first page need not hold this student; the other keys must.
        for (text, must_find) in [
            (prefix, false),
            (s.student_number.clone(), true),
            (s.source_id.to_string(), true),
            (s.org_email.clone(), true),
        ] {
            let Ok(parsed) = SearchText::parse("query", &text) else {
                continue;
            };
            let t = Instant::now();
            let page = engine
                .reads()
                .search_roster(district, &parsed, None, 50)
                .await?;
            times.push(t.elapsed());
            if must_find && !page.iter().any(|(m, _)| m.id == s.id.to_string()) {
                missed += 1;
            }
        }
    }
    times.sort();
    Ok(Searches { times, missed })
}
