//! A readable reason from a source's error body, whatever shape the source gives it.

use crate::error::excerpt;

/// A readable reason from an error body: the `message`, `error_description` or `error`
/// member of a JSON body (also nested under `errorMessage`), with any per-field `errors`,
/// else the start of the body.
pub fn error_detail(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return excerpt(&text, 300);
    };
    let pick = |v: &serde_json::Value| -> Option<String> {
        ["message", "error_description", "error"]
            .iter()
            .find_map(|k| v.get(*k).and_then(|m| m.as_str()).map(str::to_owned))
    };
    let mut parts: Vec<String> = Vec::new();
    if let Some(status) = imsx_status(&value) {
        parts.push(status);
    }
    if let Some(m) = pick(&value).or_else(|| value.get("errorMessage").and_then(pick)) {
        parts.push(m);
    }
    if let Some(errors) = value.get("errors").and_then(|e| e.as_array()) {
        for e in errors.iter().take(10) {
            let field = |k: &str| e.get(k).and_then(|v| v.as_str()).unwrap_or_default();
            parts.push(format!(
                "{} {} {}",
                field("resource"),
                field("field"),
                field("code")
            ));
        }
    }
    if parts.is_empty() {
        excerpt(&text, 300)
    } else {
        excerpt(&parts.join("; "), 600)
    }
}

/// A OneRoster status-info envelope (`imsx_codeMajor`, `imsx_description` and the
/// code-minor values such as `unknownobject`), bare or under `imsx_StatusInfo`, with
/// either spelling of `imsx_CodeMinor`: `"User not found (unknownobject)"`.
fn imsx_status(value: &serde_json::Value) -> Option<String> {
    let info = value.get("imsx_StatusInfo").unwrap_or(value);
    let major = info.get("imsx_codeMajor")?.as_str().unwrap_or_default();
    let description = info
        .get("imsx_description")
        .and_then(|d| d.as_str())
        .unwrap_or(major);
    let minors: Vec<&str> = ["imsx_CodeMinor", "imsx_codeMinor"]
        .iter()
        .filter_map(|k| info.get(*k))
        .filter_map(|m| m.get("imsx_codeMinorField"))
        .flat_map(|f| match f {
            serde_json::Value::Array(items) => items.iter().collect::<Vec<_>>(),
            single => vec![single],
        })
        .filter_map(|f| f.get("imsx_codeMinorFieldValue").and_then(|v| v.as_str()))
        .collect();
    Some(if minors.is_empty() {
        description.to_owned()
    } else {
        format!("{description} ({})", minors.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_oneroster_status_envelope_gives_its_description_and_code_minor() {
        let bare = br#"{"imsx_codeMajor":"failure","imsx_severity":"error","imsx_description":"User not found",
            "imsx_CodeMinor":{"imsx_codeMinorField":[{"imsx_codeMinorFieldName":"TargetEndSystem","imsx_codeMinorFieldValue":"unknownobject"}]}}"#;
        assert_eq!(error_detail(bare), "User not found (unknownobject)");
        let wrapped = br#"{"imsx_StatusInfo":{"imsx_codeMajor":"failure","imsx_codeMinor":{"imsx_codeMinorField":{"imsx_codeMinorFieldValue":"server_busy"}}}}"#;
        assert_eq!(error_detail(wrapped), "failure (server_busy)");
    }

    #[test]
    fn error_details_come_from_the_json_body() {
        assert_eq!(
            error_detail(br#"{"errorMessage":{"message":"Plugin is missing required accessLevelV1Api READ permission"}}"#),
            "Plugin is missing required accessLevelV1Api READ permission"
        );
        assert_eq!(
            error_detail(br#"{"message":"At least one column lacks sufficient permission","errors":[{"code":"NoAccess","field":"isdecisionmaking","resource":"u_studentcontactdetail"}]}"#),
            "At least one column lacks sufficient permission; u_studentcontactdetail isdecisionmaking NoAccess"
        );
        assert_eq!(
            error_detail(b"<html>Bad gateway</html>"),
            "<html>Bad gateway</html>"
        );
    }
}
