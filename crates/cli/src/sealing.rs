//! The sealing keys of connector secrets at rest: from `sealing_key` (the environment,
//! current first, older ones after commas) or the key file (one per line, current first;
//! created 0600 with a new key on the first start of the embedded SQLite default). A
//! PostgreSQL deployment names its key explicitly — every replica must hold the same
//! one. `rostersync secrets rotate` puts a new key first in the file and re-seals every
//! district with it.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use anyhow::{bail, Context};
use store::sealing::{Sealer, SealingKey};

use crate::config::Config;

/// The keys as configured, current first, or `None` when none is.
fn configured(config: &Config) -> anyhow::Result<Option<Vec<SealingKey>>> {
    let text = match &config.sealing_key {
        Some(secret) => secret.expose().replace(',', "\n"),
        None => match std::fs::read_to_string(&config.sealing_key_file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(e).with_context(|| {
                    format!(
                        "read the sealing key file {}",
                        config.sealing_key_file.display()
                    )
                })
            }
        },
    };
    let keys = key_lines(&text)
        .iter()
        .enumerate()
        .map(|(i, l)| SealingKey::parse(l).with_context(|| format!("sealing key {}", i + 1)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if keys.is_empty() {
        bail!("the sealing key configuration holds no key");
    }
    Ok(Some(keys))
}

/// The keys of a key file's text (or of the comma-separated variable), current first:
/// blank lines and `#` comments left out.
fn key_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Writes `keys` (text, one per line) to `path`, readable by this user only.
fn write_keys(path: &Path, keys: &[String]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    let tmp = path.with_extension("key.new");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("write {}", tmp.display()))?;
    writeln!(
        f,
        "# rostersync sealing keys: the first seals, every one opens. Keep this file secret."
    )?;
    for k in keys {
        writeln!(f, "{k}")?;
    }
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("replace {}", path.display()))?;
    Ok(())
}

/// The sealer the service runs with.
pub fn sealer(config: &Config, embedded: bool) -> anyhow::Result<Sealer> {
    let keys = match configured(config)? {
        Some(keys) => keys,
        None if embedded => {
            let key = SealingKey::generate();
            write_keys(&config.sealing_key_file, std::slice::from_ref(&key))?;
            tracing::info!(file = %config.sealing_key_file.display(), "created a sealing key for connector secrets");
            vec![SealingKey::parse(&key)?]
        }
        None => bail!(
            "no sealing key for connector secrets: set sealing_key (ROSTERSYNC_SEALING_KEY) or sealing_key_file, the same on every replica; `rostersync secrets new-key` prints one"
        ),
    };
    let mut keys = keys.into_iter();
    let current = keys.next().context("a sealing key")?;
    Ok(Sealer::new(current, keys.collect()))
}

/// `rostersync secrets rotate`: a new key first in the key file, every district re-sealed
/// with it. Answers how many districts were re-sealed.
pub async fn rotate(config: &Config, store: store::Store) -> anyhow::Result<(String, u64)> {
    if config.sealing_key.is_some() {
        bail!(
            "the sealing key comes from sealing_key (ROSTERSYNC_SEALING_KEY): put a new key first there, the old one after a comma, restart, then run `rostersync secrets reseal`"
        );
    }
    let text = std::fs::read_to_string(&config.sealing_key_file).with_context(|| {
        format!(
            "read the sealing key file {}",
            config.sealing_key_file.display()
        )
    })?;
    let mut lines = key_lines(&text);
    let new = SealingKey::generate();
    lines.insert(0, new);
    write_keys(&config.sealing_key_file, &lines)?;
    let sealer = sealer(config, false)?;
    let id = sealer.current_id().to_owned();
    let store = store.with_sealer(sealer);
    let n = store.reseal_secrets().await?;
    store.close().await?;
    Ok((id, n))
}
