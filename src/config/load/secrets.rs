//! Secrets in the configuration: whether the file holds one (then `secret_file` warns when
//! others can read it), and the printed configuration never shows one.

use serde_yaml::Value;

use crate::config::schema::{Config, MASK, SECRET_KEYS};

pub(super) fn holds_secret(tree: &Value) -> bool {
    tree.get("servers")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .any(|server| {
            SECRET_KEYS.iter().any(|key| {
                server
                    .get(key)
                    .and_then(Value::as_str)
                    .is_some_and(|secret| !secret.is_empty())
            })
        })
}

/// Effective configuration as YAML, secrets masked: what `check-config` prints.
#[must_use]
pub fn render_masked(config: &Config) -> String {
    let text = serde_yaml::to_string(config).unwrap_or_default();
    debug_assert!(
        secrets_are_masked(&text),
        "a secret reached the printed configuration"
    );
    text
}

/// Every `api_secret` in printed configuration text is the mask or absent. Searching the text
/// for each secret instead would also find a short one, such as `secret`, inside the key
/// `api_secret` itself.
fn secrets_are_masked(text: &str) -> bool {
    let Ok(tree) = serde_yaml::from_str::<Value>(text) else {
        return false;
    };
    tree.get("servers")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .flat_map(|server| SECRET_KEYS.iter().filter_map(|key| server.get(key)))
        .all(|secret| secret.is_null() || secret.as_str() == Some(MASK))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_text;

    #[test]
    fn a_secret_that_is_also_a_word_of_the_output_prints_masked() {
        // Found by the `config_loader` fuzz target: the sandbox's own secret, `secret`, is part
        // of the key `api_secret`, and the check that no secret is printed panicked on it in
        // every debug build of `lktop check-config`.
        let text = "servers:\n  - url: http://127.0.0.1:7880\n    api_key: devkey\n    \
                    api_secret: secret\n";
        let loaded = load_text(None, Some(text), &[]).expect("a valid configuration");
        let printed = render_masked(&loaded.config);
        assert!(
            printed.contains(&format!("api_secret: '{MASK}'")),
            "{printed}"
        );
        assert!(!printed.contains(": secret"), "{printed}");
    }
}
