//! The chosen `lk` projects written into the tree, beneath lktop's own values: a server of
//! lktop's file named like a project keeps every key it writes and takes from the project
//! only what it leaves out (`url`, `api_key`, `api_secret`); a project no server is named after
//! becomes a server of its own at the end of the list. The overrides (environment, flags)
//! are written afterwards, so they win over a project as over the file.

use serde_yaml::{Mapping, Value};
use yaml_located::KeyPath;

use super::overrides::Override;
use crate::config::lk_projects::LkProject;

/// Writes `projects` into `tree`; what it wrote, as overrides that say where each value is
/// written in `lk`'s file, for the problems about them and `check-config`'s list.
pub(super) fn write_projects(tree: &mut Value, projects: &[LkProject]) -> Vec<Override> {
    let mut written = Vec::new();
    for project in projects {
        // A `servers:` that is not a list is reported when the tree is decoded.
        let Some(servers) = servers_list(tree) else {
            break;
        };
        let named =
            |server: &Value| server.get("name").and_then(Value::as_str) == Some(project.name());
        let index = servers.iter().position(named).unwrap_or_else(|| {
            servers.push(Value::Mapping(Mapping::new()));
            servers.len() - 1
        });
        let Some(server) = servers[index].as_mapping_mut() else {
            continue;
        };
        let server_key = KeyPath::root().key("servers").index(index);
        let name = ("name", project.name(), &project.name.origin);
        for (field, value, origin) in std::iter::once(name).chain(project.server_values()) {
            let slot = Value::String(field.to_owned());
            if server.get(&slot).is_some_and(|written| !written.is_null()) {
                continue;
            }
            server.insert(slot, Value::String(value.to_owned()));
            written.push(Override::text(
                server_key.clone().key(field),
                value,
                origin.clone(),
            ));
        }
    }
    written
}

/// `servers:`, created empty when the file has none.
fn servers_list(tree: &mut Value) -> Option<&mut Vec<Value>> {
    let settings = tree.as_mapping_mut()?;
    let key = Value::String("servers".to_owned());
    if settings.get(&key).is_none_or(Value::is_null) {
        settings.insert(key.clone(), Value::Sequence(Vec::new()));
    }
    settings.get_mut(&key)?.as_sequence_mut()
}

/// A warning for each value of a project that the environment or a flag replaced: `lk` would
/// have used the project's, so the difference is said rather than left to surprise.
pub(super) fn replaced_project_values(
    from_projects: &[Override],
    applied: &[Override],
) -> Vec<String> {
    from_projects
        .iter()
        .filter_map(|project_value| {
            let replaced_by = applied
                .iter()
                .rev()
                .find(|entry| entry.key == project_value.key)?;
            Some(format!(
                "{} replaces the {} that {} gives; without it the project's is used",
                replaced_by.origin, project_value.key, project_value.origin
            ))
        })
        .collect()
}
