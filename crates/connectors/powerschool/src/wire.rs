//! PowerSchool's JSON as it arrives, quirks included (reference §2–§7): a list of one is a
//! bare object, an empty expansion is `""`, an empty page lacks its inner key, numbers
//! and strings stand in for each other, and extension fields arrive as name/value lists.
//! These structs mirror the API; [`crate::map`] turns them into the model.

use std::collections::BTreeMap;

use serde::de::{self, DeserializeOwned, Deserializer};
use serde::Deserialize;

/// A list that may arrive as an array, a bare object (one element), `""` or `null`.
#[derive(Debug, Clone, PartialEq)]
pub struct OneOrMany<T>(pub Vec<T>);

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany(Vec::new())
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        let items = match value {
            serde_json::Value::Null => Vec::new(),
            serde_json::Value::String(s) if s.is_empty() => Vec::new(),
            serde_json::Value::Array(items) => items
                .into_iter()
                .map(serde_json::from_value)
                .collect::<Result<_, _>>()
                .map_err(de::Error::custom)?,
            other => vec![serde_json::from_value(other).map_err(de::Error::custom)?],
        };
        Ok(OneOrMany(items))
    }
}

/// An expansion: an object, or `""` when it has no data.
#[derive(Debug, Clone, PartialEq)]
pub struct Expansion<T>(pub Option<T>);

impl<T> Default for Expansion<T> {
    fn default() -> Self {
        Expansion(None)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Expansion<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        match value {
            serde_json::Value::Null => Ok(Expansion(None)),
            serde_json::Value::String(s) if s.is_empty() => Ok(Expansion(None)),
            other => serde_json::from_value(other)
                .map(|v| Expansion(Some(v)))
                .map_err(de::Error::custom),
        }
    }
}

/// A scalar that may arrive as a string, a number or a boolean; kept as text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Null => Ok(Text(String::new())),
            serde_json::Value::String(s) => Ok(Text(s)),
            serde_json::Value::Number(n) => Ok(Text(n.to_string())),
            serde_json::Value::Bool(b) => Ok(Text(if b { "1" } else { "0" }.into())),
            other => Err(de::Error::custom(format!("expected a scalar, got {other}"))),
        }
    }
}

impl Text {
    pub fn as_str(&self) -> &str {
        self.0.trim()
    }
}

// ---- token and metadata -------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct MetadataAnswer {
    pub metadata: Metadata,
}

#[derive(Debug, Deserialize, Default)]
pub struct Metadata {
    #[serde(default)]
    pub powerschool_version: Option<Text>,
    #[serde(default)]
    pub student_max_page_size: Option<Text>,
    #[serde(default)]
    pub school_max_page_size: Option<Text>,
    #[serde(default)]
    pub staff_max_page_size: Option<Text>,
    #[serde(default)]
    pub section_max_page_size: Option<Text>,
    #[serde(default)]
    pub section_enrollment_max_page_size: Option<Text>,
    #[serde(default)]
    pub schema_table_query_max_page_size: Option<Text>,
}

/// `/ws/v1/…/count`: `{"resource":{"count":N}}` as real servers answer (reference §2),
/// or the bare `{"count":N}` PowerSchool's own Swagger text shows (for section
/// enrollments among others, [SW]).
#[derive(Debug, Deserialize)]
pub struct V1Count {
    #[serde(default)]
    pub resource: Option<CountValue>,
    #[serde(default)]
    pub count: Option<Text>,
}

impl V1Count {
    /// The count, in whichever form it came.
    pub fn value(&self) -> Option<&Text> {
        self.resource
            .as_ref()
            .map(|r| &r.count)
            .or(self.count.as_ref())
    }
}

/// `/ws/schema/…/count`, and the inner object of [`V1Count`].
#[derive(Debug, Deserialize)]
pub struct CountValue {
    pub count: Text,
}

// ---- /ws/v1 schools and students ----------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct SchoolsAnswer {
    pub schools: SchoolList,
}

#[derive(Debug, Deserialize)]
pub struct SchoolList {
    #[serde(default)]
    pub school: OneOrMany<School>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct School {
    pub id: Text,
    #[serde(default)]
    pub school_number: Text,
    #[serde(default)]
    pub name: Text,
}

#[derive(Debug, Deserialize)]
pub struct StudentsAnswer {
    pub students: StudentList,
}

#[derive(Debug, Deserialize)]
pub struct StudentList {
    #[serde(default)]
    pub student: OneOrMany<Student>,
}

/// `/ws/v1/student/{dcid}`.
#[derive(Debug, Deserialize)]
pub struct StudentAnswer {
    pub student: Student,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Student {
    pub id: Text,
    #[serde(default)]
    pub local_id: Text,
    #[serde(default)]
    pub student_username: Text,
    #[serde(default)]
    pub state_province_id: Text,
    #[serde(default)]
    pub name: Expansion<Name>,
    #[serde(default)]
    pub demographics: Expansion<Demographics>,
    #[serde(default)]
    pub school_enrollment: Expansion<SchoolEnrollment>,
    #[serde(default)]
    pub addresses: Expansion<Addresses>,
    #[serde(default)]
    pub phones: Expansion<Phones>,
    #[serde(default)]
    pub contact_info: Expansion<ContactInfo>,
    #[serde(default, rename = "_extension_data")]
    pub extension_data: Expansion<ExtensionData>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct Name {
    #[serde(default)]
    pub first_name: Text,
    #[serde(default)]
    pub middle_name: Text,
    #[serde(default)]
    pub last_name: Text,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct Addresses {
    #[serde(default)]
    pub physical: Expansion<PostalAddress>,
    #[serde(default)]
    pub mailing: Expansion<PostalAddress>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct PostalAddress {
    #[serde(default)]
    pub street: Text,
    #[serde(default)]
    pub city: Text,
    #[serde(default)]
    pub state_province: Text,
    #[serde(default)]
    pub postal_code: Text,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct Phones {
    #[serde(default)]
    pub main: Expansion<PhoneNumber>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct PhoneNumber {
    #[serde(default)]
    pub number: Text,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct ContactInfo {
    #[serde(default)]
    pub email: Text,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct Demographics {
    #[serde(default)]
    pub gender: Text,
    #[serde(default)]
    pub birth_date: Text,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct SchoolEnrollment {
    #[serde(default)]
    pub enroll_status: Text,
    /// Absent when the server has none; the status letter is the fallback.
    #[serde(default)]
    pub enroll_status_code: Option<Text>,
    #[serde(default)]
    pub grade_level: Text,
    #[serde(default)]
    pub school_id: Text,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct ExtensionData {
    #[serde(default, rename = "_table_extension")]
    pub tables: OneOrMany<TableExtension>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TableExtension {
    pub name: String,
    #[serde(default, rename = "_field")]
    pub fields: OneOrMany<ExtensionField>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ExtensionField {
    pub name: String,
    #[serde(default)]
    pub value: Text,
}

impl ExtensionData {
    /// The value of `table.field` (both matched case-insensitively), if sent.
    pub fn value(&self, table: &str, field: &str) -> Option<&str> {
        self.tables
            .0
            .iter()
            .filter(|t| t.name.eq_ignore_ascii_case(table))
            .flat_map(|t| t.fields.0.iter())
            .find(|f| f.name.eq_ignore_ascii_case(field))
            .map(|f| f.value.as_str())
    }
}

// ---- table access and PowerQueries --------------------------------------------------

/// `/ws/schema/table/{table}` and PowerQuery answers: `record[i].tables.<table>.<column>`.
#[derive(Debug, Deserialize)]
pub struct RecordsAnswer {
    #[serde(default)]
    pub record: OneOrMany<Record>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Record {
    /// The row's key (table reads); absent on some answers.
    #[serde(default)]
    pub id: Option<Text>,
    #[serde(default)]
    pub tables: BTreeMap<String, BTreeMap<String, Text>>,
}

impl Record {
    /// `table.column` as text (`""` when absent); names are matched lower-case.
    pub fn get(&self, table: &str, column: &str) -> &str {
        self.tables
            .get(table)
            .and_then(|t| t.get(column))
            .map_or("", Text::as_str)
    }
}

impl connector::Keyed for School {
    fn page_key(&self) -> &str {
        self.id.as_str()
    }
}

impl connector::Keyed for Student {
    fn page_key(&self) -> &str {
        self.id.as_str()
    }
}

impl connector::Keyed for Record {
    fn page_key(&self) -> &str {
        self.id.as_ref().map_or("", Text::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_student_arrives_as_a_bare_object_with_empty_expansions() {
        let json = r#"{"students":{"@expansions":"demographics, addresses","student":{"id":4101,"local_id":200311,
            "name":{"first_name":"Jamie","last_name":"Doe"},"phones":"","demographics":"",
            "_extension_data":{"_table_extension":[
              {"name":"u_student","recordFound":false,"_field":[{"name":"orgemail","type":"String","value":"j@d.example"}]},
              {"name":"s_ab_stu_x","recordFound":false,"_field":{"name":"enrlytype1","type":"String","value":121}}]}}}}"#;
        let answer: StudentsAnswer = serde_json::from_str(json).expect("parses");
        let students = answer.students.student.0;
        assert_eq!(students.len(), 1);
        let s = &students[0];
        assert_eq!((s.id.as_str(), s.local_id.as_str()), ("4101", "200311"));
        assert!(s.demographics.0.is_none());
        let ext = s.extension_data.0.as_ref().expect("extension data");
        assert_eq!(ext.value("U_STUDENT", "orgemail"), Some("j@d.example"));
        assert_eq!(ext.value("s_ab_stu_x", "enrlytype1"), Some("121"));
        assert_eq!(ext.value("s_ab_stu_x", "enrlytype2"), None);
    }

    #[test]
    fn an_empty_page_has_no_inner_key() {
        let answer: StudentsAnswer =
            serde_json::from_str(r#"{"students":{"@expansions":"demographics"}}"#).expect("parses");
        assert!(answer.students.student.0.is_empty());
    }

    #[test]
    fn table_records_read_by_table_and_column() {
        let json = r#"{"name":"u_studentcontactdetail","record":{"id":5521,"name":"u_studentcontactdetail",
            "tables":{"u_studentcontactdetail":{"studentcontactdetailid":"88123","isdecisionmaking":1}}}}"#;
        let answer: RecordsAnswer = serde_json::from_str(json).expect("parses");
        let r = &answer.record.0[0];
        assert_eq!(r.get("u_studentcontactdetail", "isdecisionmaking"), "1");
        assert_eq!(r.get("u_studentcontactdetail", "missing"), "");
    }

    #[test]
    fn counts_of_both_families_parse() {
        let v1: V1Count = serde_json::from_str(r#"{"resource":{"count":423}}"#).expect("v1");
        assert_eq!(v1.value().map(Text::as_str), Some("423"));
        let t: CountValue = serde_json::from_str(r#"{"count":"2089"}"#).expect("table");
        assert_eq!(t.count.as_str(), "2089");
    }

    #[test]
    fn a_v1_count_is_read_wrapped_or_bare() {
        let wrapped: V1Count =
            serde_json::from_str(r#"{"resource":{"count":423}}"#).expect("wrapped");
        let bare: V1Count = serde_json::from_str(r#"{"count":"17"}"#).expect("bare");
        let neither: V1Count = serde_json::from_str(r#"{}"#).expect("empty");
        assert_eq!(wrapped.value().map(Text::as_str), Some("423"));
        assert_eq!(bare.value().map(Text::as_str), Some("17"));
        assert!(neither.value().is_none());
    }
}
