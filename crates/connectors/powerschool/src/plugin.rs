//! The plugin a district installs (reference §1): `plugin.xml` with an `<oauth/>` element
//! (client credentials, `/ws/v1` read access) and an `access_request` for exactly the
//! fields in [`crate::fields`], or a `.zip` holding that file at its root.

use std::io::Write;

use model::ValidationErrors;

use crate::fields;

/// What the plugin says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginOptions {
    /// Unique among the district's plugins; at most 40 characters.
    pub name: String,
    /// At most 20 characters; a changed plugin needs a new version to be uploaded again.
    pub version: String,
    /// At most 256 characters.
    pub description: String,
    pub publisher: String,
    pub contact_email: String,
    /// Ask for `/ws/v1` read access (`accessLevelV1Api="READ"`), which PowerSchool 25.2
    /// and later require; turn off only for a server that refuses the attribute.
    pub v1_access: bool,
}

impl Default for PluginOptions {
    fn default() -> Self {
        PluginOptions {
            name: "rostersync".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Keeps students, guardians and their links in step with the engagement product (read only).".into(),
            publisher: "rostersync".into(),
            contact_email: "support@rostersync.example".into(),
            v1_access: true,
        }
    }
}

impl PluginOptions {
    /// PowerSchool's limits on the plugin's attributes.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        for (field, value, max) in [
            ("name", &self.name, 40),
            ("version", &self.version, 20),
            ("description", &self.description, 256),
            ("publisher", &self.publisher, 256),
            ("contact_email", &self.contact_email, 256),
        ] {
            let len = value.trim().chars().count();
            if len == 0 {
                errors.push(field, "is required");
            } else if len > max {
                errors.push(
                    field,
                    format!("is {len} characters; PowerSchool allows {max}"),
                );
            }
        }
        if !self.contact_email.contains('@') {
            errors.push("contact_email", "is not an e-mail address");
        }
        errors.into_result(())
    }
}

fn escape(s: &str) -> String {
    s.trim()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The plugin XML. Element order: oauth, access_request, publisher.
pub fn plugin_xml(o: &PluginOptions) -> Result<String, ValidationErrors> {
    o.validate()?;
    let mut xml = String::new();
    xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<plugin xmlns=\"http://plugin.powerschool.pearson.com\"\n        \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"\n        \
         xsi:schemaLocation=\"http://plugin.powerschool.pearson.com plugin.xsd\"\n        \
         name=\"{}\" version=\"{}\" description=\"{}\">\n",
        escape(&o.name),
        escape(&o.version),
        escape(&o.description)
    ));
    if o.v1_access {
        xml.push_str("  <oauth accessLevelV1Api=\"READ\"/>\n");
    } else {
        xml.push_str("  <oauth/>\n");
    }
    xml.push_str("  <access_request>\n");
    for (table, field) in fields::access_request() {
        xml.push_str(&format!(
            "    <field table=\"{}\" field=\"{}\" access=\"ViewOnly\"/>\n",
            table.to_uppercase(),
            field.to_uppercase()
        ));
    }
    xml.push_str("  </access_request>\n");
    xml.push_str(&format!(
        "  <publisher name=\"{}\">\n    <contact email=\"{}\"/>\n  </publisher>\n",
        escape(&o.publisher),
        escape(&o.contact_email)
    ));
    xml.push_str("</plugin>\n");
    Ok(xml)
}

/// Why a plugin package could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("invalid plugin options: {0}")]
    Invalid(ValidationErrors),
    #[error("cannot write the plugin package: {0}")]
    Zip(String),
}

/// The installable package: a zip with `plugin.xml` at its root (no top folder).
pub fn plugin_zip(o: &PluginOptions) -> Result<Vec<u8>, PluginError> {
    let xml = plugin_xml(o).map_err(PluginError::Invalid)?;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("plugin.xml", options)
        .map_err(|e| PluginError::Zip(e.to_string()))?;
    zip.write_all(xml.as_bytes())
        .map_err(|e| PluginError::Zip(e.to_string()))?;
    zip.finish().map_err(|e| PluginError::Zip(e.to_string()))?;
    Ok(out.into_inner())
}

/// The `table.field` pairs (lower-case) an XML's access request names.
pub fn requested_fields(xml: &str) -> std::collections::BTreeSet<(String, String)> {
    let attr = |line: &str, name: &str| -> Option<String> {
        let start = line.find(&format!("{name}=\""))? + name.len() + 2;
        let end = line[start..].find('"')? + start;
        Some(line[start..end].to_lowercase())
    };
    xml.lines()
        .filter(|l| l.trim_start().starts_with("<field "))
        .filter_map(|l| Some((attr(l, "table")?, attr(l, "field")?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_access_request_is_exactly_the_fields_list() {
        let xml = plugin_xml(&PluginOptions::default()).expect("valid");
        assert_eq!(requested_fields(&xml), fields::access_request());
        let oauth = xml.find("<oauth").expect("oauth");
        let access = xml.find("<access_request>").expect("access request");
        let publisher = xml.find("<publisher").expect("publisher");
        assert!(oauth < access && access < publisher, "element order");
        assert!(xml.contains("accessLevelV1Api=\"READ\""));
        assert!(xml.contains("<field table=\"U_STUDENTCONTACTDETAIL\" field=\"ISDECISIONMAKING\" access=\"ViewOnly\"/>"));
    }

    #[test]
    fn attributes_are_escaped_and_limits_enforced() {
        let o = PluginOptions {
            description: "Tom & Jerry \"sync\"".into(),
            ..PluginOptions::default()
        };
        let xml = plugin_xml(&o).expect("valid");
        assert!(xml.contains("description=\"Tom &amp; Jerry &quot;sync&quot;\""));
        let long = PluginOptions {
            name: "x".repeat(41),
            ..PluginOptions::default()
        };
        let err = plugin_xml(&long).expect_err("must be refused").to_string();
        assert!(err.contains("name") && err.contains("40"), "{err}");
    }

    #[test]
    fn the_package_holds_plugin_xml_at_its_root() {
        let bytes = plugin_zip(&PluginOptions::default()).expect("zip");
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("readable");
        assert_eq!(archive.len(), 1);
        let mut file = archive.by_name("plugin.xml").expect("plugin.xml at root");
        let mut text = String::new();
        std::io::Read::read_to_string(&mut file, &mut text).expect("utf-8");
        assert_eq!(text, plugin_xml(&PluginOptions::default()).expect("valid"));
    }
}
