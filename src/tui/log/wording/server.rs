//! A server's health: its state (`down: connection refused`, `back up after 37 s`), its polls
//! failing while it answers, and its quality grade when it changes.

use crate::events::ServerState;
use crate::quality::{Grade, QualityReport};
use crate::read_plan::BudgetCoverage;
use crate::tui::log::human;
use crate::tui::log::memory::{GradeNews, Memory};
use crate::tui::log::note::{CollapseKey, Level, Note};
use crate::tui::render::format;

/// `down: connection refused`, `back up after 37 s`, `unauthenticated: …`, or `up` for the
/// first verdict.
pub(super) fn server_state(
    server: &str,
    state: ServerState,
    previous: Option<ServerState>,
    cause: Option<&str>,
    down_for_ms: Option<u64>,
) -> Note {
    let cause = cause.map(|cause| format!(": {cause}")).unwrap_or_default();
    let note = match state {
        ServerState::Up => {
            let back = down_for_ms.is_some()
                || matches!(
                    previous,
                    Some(ServerState::Down | ServerState::Unauthenticated)
                );
            let head = match (back, down_for_ms) {
                (true, Some(ms)) => format!("back up after {}", human::span_ms(ms)),
                (true, None) => "back up".to_owned(),
                (false, _) => "up".to_owned(),
            };
            Note::new(Level::Info, Some(server), head)
        }
        ServerState::Down => Note::new(Level::Error, Some(server), "down").detail(cause),
        ServerState::Unauthenticated => {
            Note::new(Level::Error, Some(server), "unauthenticated").detail(cause)
        }
    };
    note.state_change()
}

/// `poll failed: …`, collapsed per error text.
pub(super) fn poll_failed(server: &str, error: &str) -> Note {
    Note::new(Level::Error, Some(server), "poll failed")
        .detail(format!(": {error}"))
        .collapsing(CollapseKey::PollFailed {
            error: error.to_owned(),
        })
}

/// `quality good → poor (score 0.23 · p95 487 ms · 92.0 % ok)` when the grade changed; the
/// first grade is said too, as the starting point.
pub(super) fn quality(server: &str, report: &QualityReport, memory: &mut Memory) -> Option<Note> {
    let grade = report.grade?;
    let previous = memory.grade(server, grade)?;
    let facts = quality_facts(report);
    let detail = if facts.is_empty() {
        String::new()
    } else {
        format!(" ({facts})")
    };
    let fine = grade >= Grade::Good;
    Some(match previous {
        GradeNews::First => Note::new(
            if fine { Level::Info } else { Level::Warn },
            Some(server),
            format!("quality {grade}"),
        )
        .detail(detail),
        GradeNews::ChangedFrom(from) => Note::new(
            if grade < from {
                Level::Warn
            } else {
                Level::Info
            },
            Some(server),
            format!("quality {from} → {grade}"),
        )
        .detail(detail)
        .collapsing(CollapseKey::GradeChange { from, to: grade }),
    })
}

/// `score 0.23 · p95 487 ms · 92.0 % ok`, of what the report has.
fn quality_facts(report: &QualityReport) -> String {
    let mut facts = Vec::new();
    if let Some(score) = report.score {
        facts.push(format!("score {}", format::score(f64::from(score))));
    }
    if let Some(p95) = report.p95 {
        facts.push(format!("p95 {}", human::latency(p95)));
    }
    if let Some(rate) = report.success_rate {
        facts.push(format!("{} ok", human::percent(rate)));
    }
    facts.join(" · ")
}

/// `polling budget too small: 10000 rooms take 3m 24s to read at 50 req/s, over max_staleness
/// 30s; polling.max_requests_per_second 334 would do`, or its end.
pub(super) fn poll_budget(server: &str, coverage: &BudgetCoverage) -> Note {
    let BudgetCoverage {
        rooms,
        rotation,
        max_staleness,
        budget_per_second,
        needed_per_second,
        ..
    } = *coverage;
    if coverage.enough {
        return Note::new(
            Level::Info,
            Some(server),
            "polling budget covers every room",
        )
        .detail(format!(
            ": {rooms} rooms read within {} at {budget_per_second} req/s",
            human::span(rotation)
        ));
    }
    Note::new(Level::Warn, Some(server), "polling budget too small").detail(format!(
        ": {rooms} rooms take {} to read at {budget_per_second} req/s, over max_staleness {}; \
         polling.max_requests_per_second {needed_per_second} would do",
        human::span(rotation),
        human::span(max_staleness)
    ))
}
