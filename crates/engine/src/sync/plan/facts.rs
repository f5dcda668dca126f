//! Reading a page's facts: each kind the planner needs in one bulk read, in the order
//! one read's answer names the next one's keys.

use std::collections::HashSet;

use model::ids::SourceId;
use model::staging::{StagedKind, StagedRecord};
use planner::page::{self, StudentPage};
use planner::students::rekey_numbers;

use super::{source_ids, Planning, Stop};

impl Planning<'_> {
    /// The facts of one page of staged students.
    pub(super) async fn student_page(
        &self,
        students: Vec<StagedRecord>,
    ) -> Result<StudentPage, Stop> {
        let (store, d, run) = (self.store, self.ctx.district, self.run.id);
        let (Some(first), Some(last)) = (students.first(), students.last()) else {
            return Ok(StudentPage::default());
        };
        let (first, last) = (first.key.clone(), last.key.clone());
        // The page is parsed once, by the planner.
        let sources = source_ids(&students);
        let roster = self.ctx.authority().owns_roster();
        let links = self.ctx.settings.manage_guardians || !roster;
        let grouped = |kind| store.staged_in_groups(d, run, kind, &first, &last);
        let (held_students, contacts, relations) = tokio::try_join!(
            store.students_by_source(d, &sources),
            async {
                match links {
                    true => grouped(StagedKind::Contact).await,
                    false => Ok(Vec::new()),
                }
            },
            async {
                match links {
                    true => grouped(StagedKind::AccountStudent).await,
                    false => Ok(Vec::new()),
                }
            },
        )?;
        let mut facts = StudentPage {
            students,
            contacts,
            relations,
            held_students,
            ..StudentPage::default()
        };
        if roster {
            // Only students we do not hold may be re-keyed: only they are read here.
            let unheld: Vec<StagedRecord> = facts
                .students
                .iter()
                .filter(|r| !facts.held_students.contains_key(&SourceId::new(&r.key)))
                .cloned()
                .collect();
            let numbers = rekey_numbers(
                &planner::usable(&unheld),
                &facts.held_students,
                self.ctx.settings.student_id_source,
            );
            if !numbers.is_empty() {
                facts.rekey_candidates = store.students_by_number(d, &numbers).await?;
                let keys: Vec<String> = facts
                    .rekey_candidates
                    .iter()
                    .map(|c| c.value.source_id.to_string())
                    .collect();
                facts.students_listed = listed(self, StagedKind::Student, &keys).await?;
            }
        }
        if roster && links {
            facts.held_contacts = store.contacts_of_students(d, &sources).await?;
        }
        if !links {
            return Ok(facts);
        }
        self.link_facts(&mut facts).await?;
        Ok(facts)
    }

    /// The links side of a page: the accounts its relationships name, the guardians we
    /// hold of them, the students' links and form authors, and the linked guardians.
    async fn link_facts(&self, facts: &mut StudentPage) -> Result<(), Stop> {
        let (store, d, run) = (self.store, self.ctx.district, self.run.id);
        let keys = page::account_keys(&facts.relations);
        facts.accounts = store
            .staged_by_keys(d, run, StagedKind::GuardianAccount, &keys)
            .await?;
        let account_sources = source_ids(&facts.accounts);
        let students = page::link_students(&facts.held_students, &facts.rekey_candidates);
        let (held_guardians, held_links, form_authors) = tokio::try_join!(
            store.guardians_by_source(d, &account_sources),
            store.links_of_students(d, &students),
            store.form_authors_of(d, &students),
        )?;
        facts.held_guardians = held_guardians;
        facts.form_authors = form_authors;
        let linked = page::linked_guardian_ids(&held_links);
        facts.held_links = held_links;
        facts.linked_guardians = store.guardians_by_id(d, &linked).await?;
        let unheld = facts
            .accounts
            .iter()
            .any(|r| r.usable() && !facts.held_guardians.contains_key(&SourceId::new(&r.key)));
        if unheld && self.ctx.authority().owns_roster() {
            let keys = page::linked_account_keys(&facts.linked_guardians);
            facts.accounts_listed = listed(self, StagedKind::GuardianAccount, &keys).await?;
        }
        Ok(())
    }
}

/// Which of these keys the run's pull lists.
async fn listed(
    p: &Planning<'_>,
    kind: StagedKind,
    keys: &[String],
) -> Result<HashSet<String>, Stop> {
    Ok(p.store
        .staged_by_keys(p.ctx.district, p.run.id, kind, keys)
        .await?
        .into_iter()
        .map(|r| r.key)
        .collect())
}
