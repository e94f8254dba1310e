//! TEMPORARY until the config-changes branch lands.
use super::Config;
pub struct ConfigChange;
impl std::fmt::Display for ConfigChange {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Ok(())
    }
}
#[must_use]
pub fn changes(_old: &Config, _new: &Config) -> Vec<ConfigChange> {
    Vec::new()
}
