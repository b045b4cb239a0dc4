//! The character rules for every name that can become part of a path or a
//! storage key: table names, namespaces, job ids, component names, roles,
//! party ids, model ids and versions.
//!
//! FATE's own names (`breast_hetero_guest`, `experiment`, `202312011234…`,
//! `hetero_lr_0`, `guest-9999#host-10000#model`) all pass; anything that could
//! climb out of a directory (`..`, `/`, `\`), hide (`.x`), break a log line
//! (control characters, newlines) or a shell (spaces, quotes) does not.
//! Every caller (REST handlers, conf parsing, storage) checks names through
//! this module so the rule lives in one place.

use thiserror::Error;

/// The longest name accepted (bytes).
pub const MAX_NAME_LEN: usize = 128;

/// What kind of name is checked; decides the allowed characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// Table names, namespaces, component names, job ids, roles, party ids:
    /// `[A-Za-z0-9_.-]`, not starting with `.` or `-`.
    Plain,
    /// Model ids and versions: as [`NameKind::Plain`] plus `#` (FATE's model
    /// ids join parties with `#`).
    ModelId,
}

/// A name that breaks the rule.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{field} '{shown}' is not a valid name: {rule}")]
pub struct NameError {
    /// The field the name came from (`table_name`, `job_id`, …).
    pub field: String,
    /// The offending value, with control characters escaped.
    pub shown: String,
    /// The rule it broke.
    pub rule: &'static str,
}

fn allowed(kind: NameKind, c: char) -> bool {
    c.is_ascii_alphanumeric()
        || c == '_'
        || c == '-'
        || c == '.'
        || (kind == NameKind::ModelId && c == '#')
}

/// The longest table name accepted (bytes): output tables are named
/// `{job_id}_{component}_{role}_{party_id}_{index}`, so they may be longer
/// than one name.
pub const MAX_TABLE_NAME_LEN: usize = 255;

/// Checks `value` (from `field`) against the rule for `kind`.
pub fn check_kind(field: &str, value: &str, kind: NameKind) -> Result<(), NameError> {
    check_with(field, value, kind, MAX_NAME_LEN)
}

/// Checks a table name or namespace (as [`check`], up to
/// [`MAX_TABLE_NAME_LEN`] bytes).
pub fn check_table(field: &str, value: &str) -> Result<(), NameError> {
    check_with(field, value, NameKind::Plain, MAX_TABLE_NAME_LEN)
}

fn check_with(field: &str, value: &str, kind: NameKind, max: usize) -> Result<(), NameError> {
    let err = |rule: &'static str| NameError {
        field: field.to_string(),
        shown: value.escape_debug().take(80).collect(),
        rule,
    };
    if value.is_empty() {
        return Err(err("it is empty"));
    }
    if value.len() > max {
        return Err(err(if max == MAX_NAME_LEN {
            "it is longer than 128 bytes"
        } else {
            "it is longer than 255 bytes"
        }));
    }
    if value.starts_with('.') || value.starts_with('-') {
        return Err(err("it must not start with '.' or '-'"));
    }
    if value.contains("..") {
        return Err(err("it must not contain '..'"));
    }
    if !value.chars().all(|c| allowed(kind, c)) {
        return Err(err(match kind {
            NameKind::Plain => "only letters, digits, '_', '-' and '.' are allowed",
            NameKind::ModelId => "only letters, digits, '_', '-', '.' and '#' are allowed",
        }));
    }
    Ok(())
}

/// Checks a table name, namespace, job id, component name, role or party id.
pub fn check(field: &str, value: &str) -> Result<(), NameError> {
    check_kind(field, value, NameKind::Plain)
}

/// Checks a model id or model version.
pub fn check_model_id(field: &str, value: &str) -> Result<(), NameError> {
    check_kind(field, value, NameKind::ModelId)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fate_names_pass() {
        for n in [
            "breast_hetero_guest",
            "experiment",
            "202612061234567890123",
            "hetero_lr_0",
            "reader_0",
            "guest",
            "9999",
            "v1.2",
        ] {
            check("name", n).unwrap();
        }
        check_model_id("model_id", "arbiter-10000#guest-9999#host-10000#model").unwrap();
    }

    #[test]
    fn hostile_names_fail_naming_the_field() {
        for n in [
            "", "..", "../x", "a/b", "/etc", "a\\b", ".hidden", "-rf", "a\nb", "a b", "a\0", "é",
            "a#b",
        ] {
            let e = check("table_name", n).unwrap_err();
            assert_eq!(e.field, "table_name");
            assert!(e.to_string().starts_with("table_name '"), "{e}");
        }
        assert!(check("x", &"a".repeat(129)).is_err());
        assert!(check("x", &"a".repeat(128)).is_ok());
        assert!(check_model_id("model_id", "a/b#c").is_err());
    }
}
