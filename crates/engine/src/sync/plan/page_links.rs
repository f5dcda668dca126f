//! Pass 1's links: for one page of students, their staged contacts and the SIS accounts
//! related to them, read by the page's key range, planned through the source's rules and
//! reconciliation against the links and guardians the district holds.

use super::*;

impl Engine {
    /// The links of one page of students (`range`: the first and last student key).
    pub(super) async fn plan_page_links(
        &self,
        ctx: &Ctx<'_>,
        run: &mut SyncRun,
        w: &mut Writer,
        students: &[(SourceStudent, String)],
        ids: &HashMap<SourceId, StudentId>,
        range: (&str, &str),
    ) -> Result<(), Stop> {
        let d = ctx.district;
        let staged = |kind| {
            self.store
                .staged_in_groups(d, run.id, kind, range.0, range.1)
        };
        let contact_rows = staged(StagedKind::Contact).await?;
        let edge_rows = staged(StagedKind::AccountStudent).await?;
        // Students whose source records include one that was refused: their links are
        // left as they are rather than judged on part of what the source said.
        let mut unsure: HashSet<String> = HashSet::new();
        // The students' contacts with their content hashes, by student.
        let mut hashed: HashMap<String, Vec<(Contact, String)>> = HashMap::new();
        for r in &contact_rows {
            match parse::<Contact>(r).filter(|_| r.usable()) {
                Some(c) => {
                    hashed
                        .entry(r.group.clone())
                        .or_default()
                        .push((c, r.hash.clone()));
                }
                None => {
                    unsure.insert(r.group.clone());
                }
            }
        }
        // The students' source contacts as we store them.
        let page_students: BTreeSet<SourceId> =
            students.iter().map(|(s, _)| s.source_id.clone()).collect();
        let sources: Vec<SourceId> = page_students.iter().cloned().collect();
        let held_contacts = self.store.contacts_of_students(d, &sources).await?;
        let schools: HashMap<&SourceId, Option<&SourceId>> = students
            .iter()
            .map(|(s, _)| (&s.source_id, s.school_source_id.as_ref()))
            .collect();
        let contact_items = if ctx.import {
            // A file's rows are not the SIS's contacts.
            Vec::new()
        } else {
            roster::contact_items(&hashed, &held_contacts, &page_students, &unsure)
        };
        for item in contact_items {
            let school = match &item {
                PlanItem::Contact { contact, .. } => {
                    schools.get(&contact.student_source_id).copied().flatten()
                }
                _ => None,
            };
            w.push(run, Phase::Contacts, item, school);
        }
        let mut related: HashMap<String, Vec<String>> = HashMap::new();
        for r in &edge_rows {
            match parse::<(String, String)>(r).filter(|_| r.usable()) {
                Some((account, _)) => related.entry(r.group.clone()).or_default().push(account),
                None => {
                    unsure.insert(r.group.clone());
                }
            }
        }
        let account_keys: Vec<String> = related
            .values()
            .flatten()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut accounts: HashMap<String, GuardianAccount> = HashMap::new();
        let mut refused_accounts: HashSet<String> = HashSet::new();
        for r in self
            .store
            .staged_by_keys(d, run.id, StagedKind::GuardianAccount, &account_keys)
            .await?
        {
            match parse::<GuardianAccount>(&r).filter(|_| r.usable()) {
                Some(a) => {
                    accounts.insert(r.key.clone(), a);
                }
                None => {
                    refused_accounts.insert(r.key.clone());
                }
            }
        }
        let account_sources: Vec<SourceId> =
            accounts.values().map(|a| a.source_id.clone()).collect();
        let held_guardians = self.store.guardians_by_source(d, &account_sources).await?;
        let mut known: Vec<KnownGuardian> = held_guardians
            .iter()
            .map(|(source, g)| KnownGuardian {
                id: g.value.id,
                source_id: source.clone(),
            })
            .collect();
        let ours: Vec<StudentId> = ids.values().copied().collect();
        let mut held_links = self.store.links_of_students(d, &ours).await?;
        if ctx.import {
            held_links.retain(|l| l.origin == LinkOrigin::Import);
        }
        let mut links_of: HashMap<StudentId, Vec<&Link>> = HashMap::new();
        for l in &held_links {
            links_of.entry(l.student_id).or_default().push(l);
        }
        let linked: Vec<GuardianId> = held_links
            .iter()
            .map(|l| l.guardian_id)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut linked_guardians = self.store.guardians_by_id(d, &linked).await?;

        // Identity churn: a source may list a person we hold under a new id (Clever
        // re-creates a contact without sis_id whenever it changes). An account we do not
        // hold whose name and e-mail (or, without e-mail, phone) match exactly one
        // guardian linked to the same student, whose own id the pull no longer lists, is
        // that guardian: re-keyed, keeping its links and history.
        let unheld: Vec<&GuardianAccount> = accounts
            .values()
            .filter(|a| !ctx.import && !held_guardians.contains_key(&a.source_id))
            .collect();
        if !unheld.is_empty() {
            let old_keys: Vec<String> = linked_guardians
                .values()
                .filter_map(|g| g.source_id.as_ref().map(|s| s.as_str().to_owned()))
                .collect();
            let still_listed: HashSet<String> = self
                .store
                .staged_by_keys(d, run.id, StagedKind::GuardianAccount, &old_keys)
                .await?
                .into_iter()
                .map(|r| r.key)
                .collect();
            let mut taken: HashSet<GuardianId> = HashSet::new();
            for a in unheld {
                let candidates: BTreeSet<GuardianId> = related
                    .iter()
                    .filter(|(_, accounts)| accounts.iter().any(|k| k == a.source_id.as_str()))
                    .filter_map(|(student, _)| ids.get(&SourceId::new(student)))
                    .flat_map(|s| links_of.get(s).into_iter().flatten())
                    .map(|l| l.guardian_id)
                    .filter(|g| {
                        linked_guardians.get(g).is_some_and(|g| {
                            g.source_id
                                .as_ref()
                                .is_some_and(|s| !still_listed.contains(s.as_str()))
                                && rekey::same_person(g, a)
                        })
                    })
                    .filter(|g| !taken.contains(g))
                    .collect();
                let [g] = candidates.iter().copied().collect::<Vec<_>>()[..] else {
                    continue;
                };
                let old = linked_guardians
                    .get(&g)
                    .and_then(|x| x.source_id.clone())
                    .map(|s| s.to_string())
                    .unwrap_or_default();
                taken.insert(g);
                // Its held links now stand for the new id: reconciliation keeps them.
                if let Some(held) = linked_guardians.get_mut(&g) {
                    held.source_id = Some(a.source_id.clone());
                }
                known.push(KnownGuardian {
                    id: g,
                    source_id: a.source_id.clone(),
                });
                w.marks.insert(Mark::Connect(a.source_id.clone(), g));
                Self::warn(
                    run,
                    format!(
                        "guardian {g} re-keyed from source id {old} to {}: the source no longer lists {old}, and the new account has the same name and {} and is related to the same student",
                        a.source_id,
                        if a.email.trim().is_empty() { "phone" } else { "e-mail" }
                    ),
                );
            }
        }
        let mut authors: HashMap<StudentId, BTreeSet<GuardianId>> = HashMap::new();
        for f in self.store.form_authors_of(d, &ours).await? {
            authors
                .entry(f.student_id)
                .or_default()
                .insert(f.guardian_id);
        }
        for (src, _) in students {
            let key = src.source_id.as_str();
            let Some(&student_id) = ids.get(&src.source_id) else {
                continue;
            };
            let mine = related.get(key).map(Vec::as_slice).unwrap_or_default();
            if unsure.contains(key) || mine.iter().any(|a| refused_accounts.contains(a)) {
                Self::warn(
                    run,
                    format!(
                        "student {key}: the source sent a contact or guardian account of this student that was refused; the student's links are left as they are"
                    ),
                );
                continue;
            }
            let mine: Vec<GuardianAccount> = mine
                .iter()
                .filter_map(|k| accounts.get(k))
                .map(|a| GuardianAccount {
                    student_source_ids: vec![src.source_id.clone()],
                    ..a.clone()
                })
                .collect();
            let contacts: Vec<Contact> = hashed
                .get(key)
                .into_iter()
                .flatten()
                .map(|(c, _)| c.clone())
                .collect();
            let input = StudentLinks {
                student: src,
                student_id,
                contacts: &contacts,
                accounts: &mine,
                held: links_of.get(&student_id).cloned().unwrap_or_default(),
                linked_guardians: &linked_guardians,
                authors: authors.remove(&student_id).unwrap_or_default(),
                known: &known,
            };
            let (items, marks) = plan_student_links(ctx, &input);
            for item in items {
                w.push(run, Phase::Links, item, src.school_source_id.as_ref());
            }
            w.marks.extend(marks);
        }
        Ok(())
    }
}
