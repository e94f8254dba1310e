//! One `lk` project and the file that holds them, each value with where it is written, so a
//! problem with a value taken into lktop's configuration names the line in `lk`'s file.

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use yaml_located::Origin;

use crate::api::redacted_url;
use crate::config::secret_file::readable_by_others_warning;

/// A value of a project and where it is written (`~/.livekit/cli-config.yaml:7:5 (lk project
/// staging)`).
#[derive(Debug, Clone)]
pub(crate) struct ImportedValue<T> {
    pub(crate) value: T,
    pub(crate) origin: Origin,
}

/// One entry of `projects:` in `lk`'s file, with the field names `lk` writes
/// (`pkg/config/config.go`, `ProjectConfig`). The secret is a [`SecretString`], so no `Debug`
/// or log line shows it; the URL is shown masked, since `lk` takes one that carries a secret
/// (lktop refuses it when the project is loaded, `crate::api::secret_in_url`).
#[derive(Clone)]
pub struct LkProject {
    pub(crate) name: ImportedValue<String>,
    pub(crate) project_id: Option<String>,
    /// As `lk` stores it: `ws://`, `wss://`, `http://` or `https://`; the API layer maps the
    /// WebSocket schemes to HTTP the way the SDKs do (`api::server_base_url`).
    pub(crate) url: Option<ImportedValue<String>>,
    pub(crate) api_key: Option<ImportedValue<String>>,
    pub(crate) api_secret: Option<ImportedValue<SecretString>>,
}

impl std::fmt::Debug for LkProject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = self.url.as_ref().map(|url| ImportedValue {
            value: redacted_url(&url.value),
            origin: url.origin.clone(),
        });
        f.debug_struct("LkProject")
            .field("name", &self.name)
            .field("project_id", &self.project_id)
            .field("url", &url)
            .field("api_key", &self.api_key)
            .field("api_secret", &self.api_secret)
            .finish()
    }
}

impl LkProject {
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name.value
    }

    /// The server keys this project gives a value, with the value and where it is written;
    /// the secret exposed for the one place that needs its text, the configuration tree.
    pub(crate) fn server_values(&self) -> impl Iterator<Item = (&'static str, &str, &Origin)> {
        fn text<'p>(
            field: &'static str,
            value: Option<&'p ImportedValue<String>>,
        ) -> Option<(&'static str, &'p str, &'p Origin)> {
            value.map(|value| (field, value.value.as_str(), &value.origin))
        }
        text("url", self.url.as_ref())
            .into_iter()
            .chain(text("api_key", self.api_key.as_ref()))
            .chain(
                self.api_secret
                    .as_ref()
                    .map(|secret| ("api_secret", secret.value.expose_secret(), &secret.origin)),
            )
    }

    pub(crate) fn has_secret(&self) -> bool {
        self.api_secret
            .as_ref()
            .is_some_and(|secret| !secret.value.expose_secret().is_empty())
    }
}

/// What lktop read of `lk`'s `cli-config.yaml`; empty when the file does not exist.
#[derive(Debug, Clone)]
pub struct LkCliConfig {
    /// Where it was read from.
    pub(crate) path: PathBuf,
    /// How messages name it: `~/.livekit/cli-config.yaml`.
    pub(crate) shown_path: PathBuf,
    pub(crate) exists: bool,
    pub(crate) default_project: Option<String>,
    pub(crate) projects: Vec<LkProject>,
}

impl LkCliConfig {
    #[must_use]
    pub fn projects(&self) -> &[LkProject] {
        &self.projects
    }

    #[must_use]
    pub fn default_project(&self) -> Option<&str> {
        self.default_project.as_deref()
    }

    /// The warning lktop gives about its own file, for this one: it holds secrets, so other
    /// users must not be able to read it (`lk` warns about the same).
    #[must_use]
    pub fn warnings(&self) -> Vec<String> {
        let holds_secret = self.projects.iter().any(LkProject::has_secret);
        if !(self.exists && holds_secret) {
            return Vec::new();
        }
        readable_by_others_warning(&self.path, "")
            .into_iter()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_shows_its_url_masked_and_never_its_secret() {
        let imported = |value: &str| ImportedValue {
            value: value.to_owned(),
            origin: Origin::Default,
        };
        let project = LkProject {
            name: imported("leaky"),
            project_id: None,
            url: Some(imported(
                "https://devkey:url-secret-0123456789@leaky.example.com",
            )),
            api_key: Some(imported("devkey")),
            api_secret: Some(ImportedValue {
                value: SecretString::from("api-secret-0123456789"),
                origin: Origin::Default,
            }),
        };
        let shown = format!("{project:?}");
        assert!(
            shown.contains("https://********@leaky.example.com/"),
            "{shown}"
        );
        assert!(!shown.contains("url-secret"), "{shown}");
        assert!(!shown.contains("api-secret"), "{shown}");
    }
}
