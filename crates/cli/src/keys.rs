//! `rostersync keys`: API keys made, listed, revoked and reissued on this host's store
//! (the admin command; an `admin` key can do the same over gRPC). A token is printed
//! once, when it is made.

use anyhow::Context;
use model::access::{Ability, Caller, Districts};

use crate::config::Config;
use crate::serve;

#[derive(Debug, clap::Subcommand)]
pub enum KeysAction {
    /// Make a key and print its token (shown only now).
    Create {
        /// The key's name, recorded on what it does (`support-desk`).
        #[arg(long)]
        name: String,
        /// A district the key reaches; repeat for more. None: every district.
        #[arg(long = "district")]
        districts: Vec<String>,
        /// What it may do: read, spot_sync, run, configure, admin; repeat for more.
        #[arg(long = "ability", required = true)]
        abilities: Vec<String>,
    },
    /// Every key: name, scope, who made it, whether it is revoked. Never a token.
    List,
    /// Refuse the key from now on.
    Revoke {
        /// The key's name.
        name: String,
    },
    /// A new token for a key, same name and scope; the old token stops working.
    Reissue {
        /// The key's name.
        name: String,
    },
}

pub async fn run(config: &Config, action: KeysAction) -> anyhow::Result<()> {
    // Keys never touch a district's secrets: no sealing key is needed.
    let store = serve::open_unsealed(config).await?;
    store.migrate().await.context("migrate the store")?;
    let cli = Caller::service("cli");
    let engine = serve::engine(config, store.clone()).acting_for(&cli);
    match action {
        KeysAction::Create {
            name,
            districts,
            abilities,
        } => {
            let issued = engine
                .access()
                .create_api_key_as_asked(&name, &districts, &abilities, &cli)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "key {:?} created: {}",
                issued.key.name,
                issued.key.scope.describe()
            );
            println!("token (shown once; send it as `authorization: Bearer <token>`):");
            println!("{}", issued.token);
        }
        KeysAction::List => {
            let keys = engine
                .access()
                .list_api_keys()
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if keys.is_empty() {
                println!("no API keys: callers on the loopback are anonymous");
            }
            for key in keys {
                let abilities: Vec<&str> = key
                    .scope
                    .abilities
                    .iter()
                    .map(|a: &Ability| a.as_str())
                    .collect();
                let districts = match &key.scope.districts {
                    Districts::All => "*".to_owned(),
                    Districts::Only(ids) => {
                        ids.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(",")
                    }
                };
                let state = match key.revoked_at {
                    Some(at) => format!("revoked {}", at.to_rfc3339()),
                    None => "active".to_owned(),
                };
                println!(
                    "{:<24} {:<8} districts={districts} abilities={} created {} by {}",
                    key.name,
                    state,
                    abilities.join(","),
                    key.created_at.to_rfc3339(),
                    key.created_by
                );
            }
        }
        KeysAction::Revoke { name } => {
            let key = engine
                .access()
                .revoke_api_key(&name)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("key {:?} revoked", key.name);
        }
        KeysAction::Reissue { name } => {
            let issued = engine
                .access()
                .reissue_api_key(&name)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "key {:?} reissued ({}); the old token is refused from now on",
                issued.key.name,
                issued.key.scope.describe()
            );
            println!("{}", issued.token);
        }
    }
    drop(engine);
    store.close().await?;
    Ok(())
}
