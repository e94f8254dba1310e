//! The demo's faults: each one's beginning, end or refusal, with its number and who asked.

use crate::events::{FaultOrigin, FaultPhase};
use crate::tui::log::note::{Level, Note};

/// `demo fault #3 began (demo key): …`, `demo fault #3 ended: restarted, back after 5.0 s`,
/// `demo fault #3 refused (scheduled): …: reason`.
pub(super) fn sandbox_fault(
    id: u64,
    origin: FaultOrigin,
    phase: FaultPhase,
    description: &str,
    detail: Option<&str>,
) -> Note {
    // The event does not say which key; the key table does, in the help.
    let origin = match origin {
        FaultOrigin::Key => "demo key",
        FaultOrigin::Scheduled => "scheduled",
        FaultOrigin::Api => "admin API",
    };
    match phase {
        FaultPhase::Began => Note::new(
            Level::Warn,
            None,
            format!("demo fault #{id} began ({origin})"),
        )
        .detail(format!(": {description}")),
        FaultPhase::Ended => Note::new(Level::Info, None, format!("demo fault #{id} ended"))
            .detail(format!(": {}", detail.unwrap_or(description))),
        FaultPhase::Refused => {
            let reason = detail
                .map(|reason| format!(": {reason}"))
                .unwrap_or_default();
            Note::new(
                Level::Error,
                None,
                format!("demo fault #{id} refused ({origin})"),
            )
            .detail(format!(": {description}{reason}"))
        }
    }
}
