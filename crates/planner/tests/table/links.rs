//! Links through the source's rules and reconciliation, and their guardians.

use std::collections::BTreeSet;

use crate::common::*;
use crate::*;
use model::district::Selection;
use model::link::{AccessTier, FormAuthorship, LinkOrigin, LinkRuleSet};
use model::roster::{AccountStatus, ContactType, Relationship};
use model::Synced;

pub fn link_cases() -> Vec<Case> {
    let local = local_guardian("lee@family.example");
    let with_local = |origin: LinkOrigin| {
        let mut w = in_sync();
        w.held.guardians.push(Synced {
            value: local.clone(),
            source_hash: String::new(),
        });
        w.held
            .links
            .push(link("100", local.id, origin, AccessTier::Full));
        w
    };
    vec![
        case(
            "a contact who is not decision-making gets restricted access",
            World {
                pull: Pull {
                    contacts: vec![contact("100", "501", PAT, Some(false))],
                    ..pulled()
                },
                ..World::default()
            },
            &[
                "student.create 100",
                "guardian.create 700 sis",
                "contact.create 100/501",
                "link.create 100>700 restricted sis ps.rule4.not_decision_making",
            ],
        ),
        case(
            "a full link whose contact stops being decision-making is downgraded",
            {
                let mut w = in_sync();
                w.pull.contacts[0].decision_making = Some(false);
                w
            },
            &[
                "contact.update 100/501 [decision_making]",
                "link.update 100>700 restricted sis ps.rule4.not_decision_making",
            ],
        ),
        case(
            "a SIS link the source no longer lists is removed, and its guardian's last link with it",
            {
                let mut w = in_sync();
                w.pull.accounts.clear();
                w
            },
            &["link.delete 100>700 full sis ps.link.full", "guardian.archive 700 []"],
        ),
        case(
            "a guardian losing one of two links is not archived",
            {
                let mut w = in_sync();
                w.pull.accounts.clear();
                w.held
                    .links
                    .push(link("101", gid("700"), LinkOrigin::Sis, AccessTier::Full));
                w
            },
            &["link.delete 100>700 full sis ps.link.full"],
        ),
        case(
            "a login that is the student's web id links no one (rule 1)",
            World {
                pull: Pull {
                    accounts: vec![{
                        let mut a = account("700", "501", PAT, &["100"]);
                        a.username = "WEB100".into();
                        a
                    }],
                    ..pulled()
                },
                ..World::default()
            },
            &["student.create 100", "contact.create 100/501"],
        ),
        case(
            "a contact type the district does not sync links no one",
            World {
                pull: pulled(),
                settings: model::district::DistrictSettings {
                    contact_types: Selection::Only(BTreeSet::from([ContactType::Emergency])),
                    ..Default::default()
                },
                ..World::default()
            },
            &["student.create 100", "contact.create 100/501"],
        ),
        case(
            "an account no student relates to is not created",
            {
                let mut w = in_sync();
                w.pull.accounts.push(account("799", "", "x@family.example", &[]));
                w
            },
            &[],
        ),
        case(
            "a link made in our product stays when the SIS does not list it",
            with_local(LinkOrigin::Local),
            &[],
        ),
        case(
            "a link kept by a form stays when the SIS does not list it",
            with_local(LinkOrigin::Form),
            &[],
        ),
        case(
            "with manage_guardians off no guardian, contact or link is planned",
            World {
                pull: pulled(),
                settings: model::district::DistrictSettings {
                    manage_guardians: false,
                    ..Default::default()
                },
                ..World::default()
            },
            &["student.create 100"],
        ),
        case(
            "a guardian we hold without a SIS account who wrote a form takes the account over",
            {
                let mut w = in_sync();
                w.held.guardians.clear();
                w.held.links.clear();
                let mut author = local_guardian(PAT);
                author.status = AccountStatus::Active;
                w.held.guardians.push(Synced {
                    value: author.clone(),
                    source_hash: String::new(),
                });
                w.held
                    .links
                    .push(link("100", author.id, LinkOrigin::Form, AccessTier::Full));
                w.held.form_authors.push(FormAuthorship {
                    guardian_id: author.id,
                    student_id: w.held.students[0].value.id,
                });
                w
            },
            &[
                "guardian.update local pat@family.example [source_id,sis_connected]",
                "link.update 100>local pat@family.example full sis ps.link.full",
            ],
        ),
        case(
            "a form author's SIS link the SIS drops is kept, and the account marked incomplete",
            {
                let mut w = in_sync();
                w.pull.accounts.clear();
                w.held.form_authors.push(FormAuthorship {
                    guardian_id: gid("700"),
                    student_id: w.held.students[0].value.id,
                });
                w
            },
            &["guardian.update 700 [status]", "link.update 100>700 full form reconcile.form_kept_incomplete"],
        ),
        case(
            "an active user's e-mail is left alone",
            {
                let mut w = in_sync();
                w.pull.accounts[0].email = "new@family.example".into();
                w.pull.contacts[0].emails = vec!["new@family.example".into()];
                w.pull.accounts[0].first_name = "Patty".into();
                w
            },
            &["guardian.update 700 [first_name]", "contact.update 100/501 [emails]"],
        ),
        case(
            "a district updating active users' details changes the e-mail too",
            {
                let mut w = in_sync();
                w.settings.update_active_contact_details = true;
                w.held.guardians[0].source_hash.clear();
                w.pull.accounts[0].email = "new@family.example".into();
                w.pull.contacts[0].emails = vec!["new@family.example".into()];
                w
            },
            &["guardian.update 700 [email]", "contact.update 100/501 [emails]"],
        ),
        case(
            "a pending user's e-mail follows the SIS",
            {
                let mut w = in_sync();
                w.held.guardians[0].value.status = AccountStatus::Pending;
                w.pull.accounts[0].email = "new@family.example".into();
                w.pull.contacts[0].emails = vec!["new@family.example".into()];
                w
            },
            &["guardian.update 700 [email]", "contact.update 100/501 [emails]"],
        ),
        case(
            "an archived guardian whose link comes back is unarchived",
            {
                let mut w = in_sync();
                w.held.guardians[0].value.archived = true;
                w.held.links.clear();
                w
            },
            &["guardian.unarchive 700 []", "link.create 100>700 full sis ps.link.full"],
        ),
        case(
            "a guardians.csv link the SIS does not list is kept by a SIS run",
            {
                let mut w = in_sync();
                let kim = account("csv:kim@family.example", "", "kim@family.example", &["100"]);
                let mut g = held_guardian(&kim, AccountStatus::Active);
                g.value.sis_connected = false;
                w.held.guardians.push(g);
                w.held.links.push(link(
                    "100",
                    gid("csv:kim@family.example"),
                    LinkOrigin::Import,
                    AccessTier::Full,
                ));
                w
            },
            &[],
        ),
        case(
            "a Clever contact of a selected type is linked with full access",
            World {
                rules: LinkRuleSet::Clever,
                pull: Pull {
                    students: vec![student("100")],
                    contacts: vec![model::roster::Contact {
                        relationship: Relationship::Guardian,
                        ..contact("100", "c7", PAT, None)
                    }],
                    accounts: vec![account("c7", "", PAT, &["100"])],
                    ..Pull::default()
                },
                ..World::default()
            },
            &[
                "student.create 100",
                "guardian.create c7 sis",
                "contact.create 100/c7",
                "link.create 100>c7 full sis clever.link.full",
            ],
        ),
        case(
            "a OneRoster agent of a selected role is linked with full access",
            World {
                rules: LinkRuleSet::OneRoster,
                pull: Pull {
                    students: vec![student("100")],
                    contacts: vec![model::roster::Contact {
                        relationship: Relationship::Parent,
                        ..contact("100", "g9", PAT, None)
                    }],
                    accounts: vec![account("g9", "", PAT, &["100"])],
                    ..Pull::default()
                },
                ..World::default()
            },
            &[
                "student.create 100",
                "guardian.create g9 sis",
                "contact.create 100/g9",
                "link.create 100>g9 full sis oneroster.link.full",
            ],
        ),
    ]
}
