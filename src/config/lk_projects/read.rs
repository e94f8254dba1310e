//! Finding and reading `lk`'s `cli-config.yaml`. `lk` takes it from the home directory alone
//! (`os.UserHomeDir()`, that is `$HOME`, joined with `.livekit/cli-config.yaml`; no variable
//! moves it), and a missing file is no projects, not an error. lktop reads the keys `lk`
//! writes and ignores the rest (users, theme, device name), which newer `lk` versions extend.

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde_yaml::Value;
use yaml_located::{KeyPath, Locator, Origin, Position, Target};

use super::project::{ImportedValue, LkCliConfig, LkProject};
use crate::config::echoed_line::echoed_line;
use crate::config::error::{ConfigError, ConfigIssue};
use crate::config::scalar_text::scalar_text;
use crate::config::scrubbed_tree::ScrubbedTree;
use crate::config::secret_file::read_secret_text;

/// Where `lk` keeps its file, under the home directory.
const UNDER_HOME: [&str; 2] = [".livekit", "cli-config.yaml"];

/// What every fix of the file ends with: `lk` reads the same file, so it must still read it.
const CHECK_WITH_LK: &str = "`lk project list` reads the same file";

impl LkCliConfig {
    /// Reads `~/.livekit/cli-config.yaml` under `home`, as `lk` does.
    ///
    /// # Errors
    /// The file exists but cannot be read, is not YAML, or its projects are malformed: each
    /// problem with its line, key and fix.
    pub fn read_in_home(home: &Path) -> Result<Self, ConfigError> {
        let path = UNDER_HOME
            .iter()
            .fold(home.to_path_buf(), |path, part| path.join(part));
        let shown_path = UNDER_HOME
            .iter()
            .fold(PathBuf::from("~"), |path, part| path.join(part));
        Self::read(path, shown_path)
    }

    fn read(path: PathBuf, shown_path: PathBuf) -> Result<Self, ConfigError> {
        let text = match read_secret_text(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self {
                    path,
                    shown_path,
                    exists: false,
                    default_project: None,
                    projects: Vec::new(),
                });
            }
            Err(err) => {
                return Err(ConfigError::single(ConfigIssue {
                    key: Some(KeyPath::root()),
                    origin: file_origin(&shown_path, None, None),
                    problem: format!("cannot read `lk`'s configuration: {err}"),
                    help: Some(format!(
                        "make it readable by you (`chmod 600 {}`)",
                        path.display()
                    )),
                }));
            }
        };
        let reader = Reader {
            shown_path: &shown_path,
            text: &text,
            locator: Locator::new(&text),
            issues: Vec::new(),
        };
        let (default_project, projects) = reader.read_all()?;
        Ok(Self {
            path,
            shown_path,
            exists: true,
            default_project,
            projects,
        })
    }
}

/// One reading of the file's text, collecting every problem before giving up.
struct Reader<'a> {
    shown_path: &'a Path,
    text: &'a str,
    locator: Locator<'a>,
    issues: Vec<ConfigIssue>,
}

impl Reader<'_> {
    fn read_all(mut self) -> Result<(Option<String>, Vec<LkProject>), ConfigError> {
        let tree = serde_yaml::from_str::<Value>(self.text).map_err(|err| {
            let position = err.location().map(|location| Position {
                line: location.line(),
                column: location.column(),
            });
            let line_text = position.and_then(|position| self.line_without_secret(position.line));
            ConfigError::single(ConfigIssue {
                key: Some(KeyPath::root()),
                origin: file_origin(self.shown_path, position, line_text),
                problem: format!("`lk`'s configuration is not valid YAML: {err}"),
                help: Some(format!("repair the YAML at that line; {CHECK_WITH_LK}")),
            })
        })?;
        let tree = ScrubbedTree::new(tree);
        let root = KeyPath::root();
        let empty = serde_yaml::Mapping::new();
        let settings = match &*tree {
            Value::Null => &empty,
            Value::Mapping(settings) => settings,
            _ => {
                self.refuse(
                    &root,
                    "does not hold `lk`'s settings (`default_project:`, `projects:`)",
                    "it is `lk`'s own file: restore it, or move it away and add projects again \
                     with `lk project add`",
                );
                return Err(ConfigError {
                    issues: self.issues,
                });
            }
        };
        let default_project = self.text_at(
            settings.get("default_project"),
            &root.clone().key("default_project"),
        );
        let projects_key = root.key("projects");
        let projects = match settings.get("projects") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Sequence(entries)) => entries
                .iter()
                .enumerate()
                .filter_map(|(index, entry)| {
                    self.project(entry, &projects_key.clone().index(index))
                })
                .collect(),
            Some(_) => {
                self.refuse(
                    &projects_key,
                    "is not a list of projects",
                    &format!(
                        "write each project as an item `- name: …` with `url:`, `api_key:` and \
                         `api_secret:`; {CHECK_WITH_LK}"
                    ),
                );
                Vec::new()
            }
        };
        if self.issues.is_empty() {
            Ok((default_project, projects))
        } else {
            Err(ConfigError {
                issues: self.issues,
            })
        }
    }

    fn project(&mut self, entry: &Value, key: &KeyPath) -> Option<LkProject> {
        let Value::Mapping(fields) = entry else {
            self.refuse(
                key,
                "is not a project (a mapping with `name:`, `url:`, `api_key:`, `api_secret:`)",
                &format!("write it as `- name: …` with its keys indented beneath; {CHECK_WITH_LK}"),
            );
            return None;
        };
        let name_key = key.clone().key("name");
        let name = self
            .text_at(fields.get("name"), &name_key)
            .filter(|name| !name.is_empty());
        let Some(name) = name else {
            if !self
                .issues
                .iter()
                .any(|issue| issue.key.as_ref() == Some(&name_key))
            {
                self.refuse(
                    key,
                    "has no `name:`",
                    &format!(
                        "give it `name: …` (--project picks projects by name); {CHECK_WITH_LK}"
                    ),
                );
            }
            return None;
        };
        let entry_label = format!("lk project {name}");
        let imported = |reader: &mut Self, field: &str| {
            let field_key = key.clone().key(field);
            let value = reader.text_at(fields.get(field), &field_key)?;
            Some(ImportedValue {
                value,
                origin: Origin::Imported {
                    path: reader.shown_path.to_path_buf(),
                    position: reader.locator.find(&field_key, Target::Value),
                    entry: entry_label.clone(),
                },
            })
        };
        let name = imported(self, "name")?;
        let project_id = self.text_at(fields.get("project_id"), &key.clone().key("project_id"));
        let url = imported(self, "url");
        let api_key = imported(self, "api_key");
        let api_secret = imported(self, "api_secret").map(|secret| ImportedValue {
            value: SecretString::from(secret.value),
            origin: secret.origin,
        });
        Some(LkProject {
            name,
            project_id,
            url,
            api_key,
            api_secret,
        })
    }

    /// The text of a scalar, as `lk`'s YAML reader takes a number or a boolean into a string
    /// field; anything else is refused at `key`.
    fn text_at(&mut self, value: Option<&Value>, key: &KeyPath) -> Option<String> {
        match value? {
            Value::Null => None,
            scalar @ (Value::String(_) | Value::Number(_) | Value::Bool(_)) => {
                Some(scalar_text(scalar))
            }
            _ => {
                self.refuse(
                    key,
                    "is not text",
                    &format!("write it as one value on the key's line; {CHECK_WITH_LK}"),
                );
                None
            }
        }
    }

    fn refuse(&mut self, key: &KeyPath, problem: &str, help: &str) {
        let position = self.locator.find(key, Target::Value);
        let line_text = position
            .filter(|_| key.leaf() != Some("api_secret"))
            .and_then(|position| self.line_without_secret(position.line));
        self.issues.push(ConfigIssue {
            key: Some(key.clone()),
            origin: file_origin(self.shown_path, position, line_text),
            problem: problem.to_owned(),
            help: Some(help.to_owned()),
        });
    }

    /// The line, to echo under a problem, unless it may hold a secret: `lk`'s file keeps API
    /// secrets and its users' session tokens.
    fn line_without_secret(&self, line: usize) -> Option<String> {
        echoed_line(self.text, line)
    }
}

fn file_origin(path: &Path, position: Option<Position>, line_text: Option<String>) -> Origin {
    Origin::File {
        path: path.to_path_buf(),
        position,
        line_text,
    }
}
