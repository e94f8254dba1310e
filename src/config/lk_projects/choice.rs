//! Which of `lk`'s projects the command line asks lktop to watch: one by name (`--project`,
//! `LIVEKIT_PROJECT`) or all of them (`--all-projects`). Nothing is watched that nothing asked
//! for: `default_project` is `lk`'s fallback, not lktop's, whose fallback is its demo.

use yaml_located::Origin;

use super::project::{LkCliConfig, LkProject};
use crate::config::error::{ConfigError, ConfigIssue};

/// The projects asked for, and by what (the flag or the variable), for the error that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectChoice {
    Named { name: String, origin: Origin },
    All { origin: Origin },
}

impl LkCliConfig {
    /// The projects `choice` names, in the file's order.
    ///
    /// # Errors
    /// A name no project has (the known names listed, with the nearest one offered), or
    /// `--all-projects` with no project to watch.
    pub fn choose(&self, choice: &ProjectChoice) -> Result<Vec<LkProject>, ConfigError> {
        match choice {
            ProjectChoice::All { origin } => {
                if self.projects.is_empty() {
                    return Err(self.refusal(origin, "there are no `lk` projects to watch", None));
                }
                Ok(self.projects.clone())
            }
            ProjectChoice::Named { name, origin } => {
                // The first of two with one name, as `lk` takes it (`config.LoadProject`).
                if let Some(project) = self.projects.iter().find(|project| project.name() == name) {
                    return Ok(vec![project.clone()]);
                }
                Err(self.refusal(
                    origin,
                    &format!("no `lk` project is named `{name}`"),
                    Some(name),
                ))
            }
        }
    }

    fn refusal(&self, origin: &Origin, problem: &str, asked: Option<&str>) -> ConfigError {
        let file = self.shown_path.display();
        let add = "add one with `lk project add NAME --url URL --api-key KEY --api-secret \
                   SECRET` (or `lk cloud auth`)";
        let (problem, help) = if !self.exists {
            (
                format!("{problem}: {file} does not exist"),
                format!("{add}; `lk` keeps its projects in that file"),
            )
        } else if self.projects.is_empty() {
            (
                format!("{problem}: {file} lists no projects"),
                add.to_owned(),
            )
        } else {
            let known = self.known_names();
            let help = match asked.and_then(|asked| self.nearest_name(asked)) {
                Some(near) => format!("did you mean `{near}`? The projects: {known}"),
                None => format!("use one of: {known}"),
            };
            (format!("{problem} in {file}"), help)
        };
        ConfigError::single(ConfigIssue {
            key: None,
            origin: origin.clone(),
            problem,
            help: Some(help),
        })
    }

    /// `staging (default), prod`.
    fn known_names(&self) -> String {
        self.projects
            .iter()
            .map(|project| {
                if self.default_project() == Some(project.name()) {
                    format!("{} (default)", project.name())
                } else {
                    project.name().to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The project name nearest `asked`: the same but for case, else a near spelling.
    fn nearest_name(&self, asked: &str) -> Option<&str> {
        let names = self.projects.iter().map(LkProject::name);
        if let Some(same) = names.clone().find(|name| name.eq_ignore_ascii_case(asked)) {
            return Some(same);
        }
        names
            .map(|name| (strsim::jaro_winkler(asked, name), name))
            .filter(|(score, _)| *score >= 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, name)| name)
    }
}
