//! What `check-config` says about `lk`'s projects: each one found, its URL (any secret it
//! carries masked) and key, its secret masked, which is `lk`'s default and which this run
//! watches. Comment lines, so the printed configuration stays a configuration file.

use std::fmt::Write as _;

use super::project::LkCliConfig;
use crate::api::redacted_url;
use crate::config::mask::MASK;

impl LkCliConfig {
    /// The listing, one `# ` line per project after a heading; `watched` are the names of the
    /// projects this run watches.
    #[must_use]
    pub fn listing(&self, watched: &[&str]) -> String {
        let file = self.shown_path.display();
        if !self.exists {
            return format!("# lk projects: none ({file} does not exist)\n");
        }
        if self.projects.is_empty() {
            return format!("# lk projects: none in {file}\n");
        }
        let mut text = format!("# lk projects in {file}:\n");
        for project in &self.projects {
            let shown = |value: Option<&str>| value.unwrap_or("(none)").to_owned();
            // `lk` takes a URL that carries a secret; it is listed masked.
            let url = shown(
                project
                    .url
                    .as_ref()
                    .map(|url| redacted_url(&url.value))
                    .as_deref(),
            );
            let api_key = shown(project.api_key.as_ref().map(|key| key.value.as_str()));
            let secret = if project.has_secret() { MASK } else { "(none)" };
            let mut marks = Vec::new();
            if self.default_project() == Some(project.name()) {
                marks.push("default");
            }
            if watched.contains(&project.name()) {
                marks.push("watched");
            }
            let marks = if marks.is_empty() {
                String::new()
            } else {
                format!("  [{}]", marks.join(", "))
            };
            _ = write!(
                text,
                "#   {}: url {url}, api_key {api_key}, api_secret {secret}",
                project.name()
            );
            if let Some(id) = &project.project_id {
                _ = write!(text, ", project_id {id}");
            }
            _ = writeln!(text, "{marks}");
        }
        text
    }
}
