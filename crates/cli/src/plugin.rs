//! `rostersync plugin-xml`: the PowerSchool plugin a district installs.

use anyhow::Context;
use powerschool::plugin::{plugin_xml, plugin_zip, PluginOptions};

#[derive(Debug, clap::Args)]
pub struct PluginArgs {
    /// Write the installable package (plugin.xml at the root of a zip) to this file
    /// instead of printing the XML.
    #[arg(long, value_name = "FILE")]
    zip: Option<std::path::PathBuf>,
    /// The plugin's name, unique among the district's plugins (at most 40 characters).
    #[arg(long, default_value = "rostersync")]
    name: String,
    /// The plugin's version; raise it to upload a changed plugin again.
    #[arg(long = "plugin-version", default_value = env!("CARGO_PKG_VERSION"))]
    plugin_version: String,
    /// Publisher name shown in PowerSchool.
    #[arg(long, default_value = "rostersync")]
    publisher: String,
    /// Publisher contact e-mail shown in PowerSchool.
    #[arg(long, default_value = "support@rostersync.example")]
    contact_email: String,
    /// Leave out accessLevelV1Api="READ" (only for a PowerSchool older than 25.2 that
    /// refuses the attribute).
    #[arg(long)]
    without_v1_access_level: bool,
}

pub fn run(args: &PluginArgs) -> anyhow::Result<()> {
    let options = PluginOptions {
        name: args.name.clone(),
        version: args.plugin_version.clone(),
        publisher: args.publisher.clone(),
        contact_email: args.contact_email.clone(),
        v1_access: !args.without_v1_access_level,
        ..PluginOptions::default()
    };
    match &args.zip {
        None => {
            let xml =
                plugin_xml(&options).map_err(|e| anyhow::anyhow!("invalid plugin options: {e}"))?;
            print!("{xml}");
        }
        Some(path) => {
            let bytes = plugin_zip(&options)?;
            std::fs::write(path, bytes).with_context(|| format!("write {}", path.display()))?;
            eprintln!(
                "wrote {}: upload it in PowerSchool under System > System Settings > Plugin Management Configuration > Install",
                path.display()
            );
        }
    }
    Ok(())
}
