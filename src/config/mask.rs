//! What stands in for a secret wherever the configuration is shown: printed, logged,
//! compared or quoted in an error.

/// Shown in place of a secret wherever the configuration is printed.
pub const MASK: &str = "********";
