//! A YAML value written back the way a message quotes it.

use serde_yaml::Value;

/// A value as YAML on one line; text unquoted, as it reads in the file.
pub(crate) fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim_end()
            .replace('\n', " "),
    }
}
