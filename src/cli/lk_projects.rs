//! `--project NAME` (or `LIVEKIT_PROJECT`) and `--all-projects`: which of `lk`'s projects to
//! watch, and reading `lk`'s file for them and for `check-config`'s list.

use std::path::Path;

use clap::ArgMatches;
use clap::parser::ValueSource;

use crate::config::{ConfigError, ConfigIssue, LkCliConfig, LkProject, Origin, ProjectChoice};

/// What this run takes from `lk`'s projects.
#[derive(Debug, Default)]
pub(crate) struct LkProjectsUse {
    /// `lk`'s file, when it was read: asked for, or listed by `check-config`.
    pub(crate) file: Option<LkCliConfig>,
    /// The projects to watch.
    pub(crate) chosen: Vec<LkProject>,
    /// About `lk`'s file: readable by others, or (for `check-config` when no project was asked
    /// for) malformed.
    pub(crate) warnings: Vec<String>,
}

impl LkProjectsUse {
    /// Reads `lk`'s file when a project is asked for, or when `listed` (`check-config` shows
    /// the projects even when none is watched). A malformed file fails only a run that asked
    /// for a project; `check-config` otherwise warns and goes on.
    ///
    /// # Errors
    /// An unknown project, `--project` with `--all-projects`, no home directory, or a
    /// malformed file when a project is asked for.
    pub(crate) fn resolve(
        flags: &ProjectFlags<'_>,
        matches: &ArgMatches,
        home: Option<&Path>,
        listed: bool,
    ) -> Result<Self, ConfigError> {
        let choice = project_choice(flags, matches)?;
        if choice.is_none() && !listed {
            return Ok(Self::default());
        }
        let Some(home) = home else {
            return match choice {
                Some(choice) => Err(ConfigError::single(ConfigIssue {
                    key: None,
                    origin: choice_origin(&choice).clone(),
                    problem: "HOME is not set, so `lk`'s ~/.livekit/cli-config.yaml cannot be \
                              found"
                        .to_owned(),
                    help: Some("set HOME to the home directory `lk` runs with".to_owned()),
                })),
                None => Ok(Self::default()),
            };
        };
        let file = match (LkCliConfig::read_in_home(home), &choice) {
            (Ok(file), _) => file,
            (Err(err), Some(_)) => return Err(err),
            (Err(err), None) => {
                return Ok(Self {
                    warnings: err
                        .issues
                        .iter()
                        .map(|issue| format!("{}; no lk project can be watched", issue.one_line()))
                        .collect(),
                    ..Self::default()
                });
            }
        };
        let chosen = match &choice {
            Some(choice) => file.choose(choice)?,
            None => Vec::new(),
        };
        Ok(Self {
            warnings: file.warnings(),
            file: Some(file),
            chosen,
        })
    }

    /// `check-config`'s list of the projects, when `lk`'s file was read.
    pub(crate) fn listing(&self) -> Option<String> {
        let watched: Vec<&str> = self.chosen.iter().map(LkProject::name).collect();
        self.file.as_ref().map(|file| file.listing(&watched))
    }
}

/// The values of `--project` (or `LIVEKIT_PROJECT`) and `--all-projects`, as clap parsed them.
pub(crate) struct ProjectFlags<'a> {
    pub(crate) project: Option<&'a str>,
    pub(crate) all_projects: bool,
}

/// The projects asked for: `--all-projects`, else `--project` (whose flag wins over
/// `LIVEKIT_PROJECT`, as clap takes it), else none.
fn project_choice(
    flags: &ProjectFlags<'_>,
    matches: &ArgMatches,
) -> Result<Option<ProjectChoice>, ConfigError> {
    let project_source = matches.value_source("project");
    if flags.all_projects {
        let origin = Origin::Flag("--all-projects".to_owned());
        if project_source == Some(ValueSource::CommandLine) {
            return Err(ConfigError::single(ConfigIssue {
                key: None,
                origin,
                problem: "--project and --all-projects were both given".to_owned(),
                help: Some(
                    "give one: --project NAME watches one project, --all-projects every \
                            one"
                    .to_owned(),
                ),
            }));
        }
        // A LIVEKIT_PROJECT left in the environment gives way to the flag.
        return Ok(Some(ProjectChoice::All { origin }));
    }
    Ok(flags.project.map(|name| {
        let origin = match project_source {
            Some(ValueSource::EnvVariable) => Origin::Env("LIVEKIT_PROJECT".to_owned()),
            _ => Origin::Flag("--project".to_owned()),
        };
        ProjectChoice::Named {
            name: name.to_owned(),
            origin,
        }
    }))
}

fn choice_origin(choice: &ProjectChoice) -> &Origin {
    match choice {
        ProjectChoice::Named { origin, .. } | ProjectChoice::All { origin } => origin,
    }
}
