//! CPU per frame of the rooms screen at 100, 1,000 and 10,000 rooms, 160x48, release build.
//!
//! lktop builds only the visible rows from an order kept by `update`. The peer is what a
//! ratatui table usually does: every row built (and sorted) each frame and scrolled with
//! `TableState`. lktop's figure is the whole dashboard (header, tabs, rooms table, event pane,
//! footer), the peer's the table alone, so the ratio understates the difference. Both draw into
//! a `TestBackend` (the terminal write is the same for both and left out).
//!
//! `cargo bench --bench render` prints the median over 200 frames (after 20 warm-up frames)
//! and the ratio.

#[path = "support/allocator.rs"]
mod allocator;

#[path = "../tests/support/dashboard_fixture.rs"]
#[allow(
    dead_code,
    reason = "the bench draws the sample dashboard and none of the fixture's parts"
)]
mod dashboard_fixture;

use std::hint::black_box;
use std::time::{Duration, Instant};

use dashboard_fixture::sample_app;
use lktop::limits::limit_for;
use lktop::tui::{App, Screen};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Constraint;
use ratatui::widgets::{Block, Borders, Row, Table, TableState};

const WIDTH: u16 = 160;
const HEIGHT: u16 = 48;
const WARMUP: usize = 20;
const FRAMES: usize = 200;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn time_frames(mut frame: impl FnMut()) -> Duration {
    for _ in 0..WARMUP {
        frame();
    }
    let samples = (0..FRAMES)
        .map(|_| {
            let start = Instant::now();
            frame();
            start.elapsed()
        })
        .collect();
    median(samples)
}

/// Every room as a row, sorted each frame, as a straightforward ratatui table would.
fn draw_every_row(terminal: &mut Terminal<TestBackend>, app: &App, state: &mut TableState) {
    let server = app.server().expect("the fixture has a server");
    let snapshot = server
        .snapshot
        .as_ref()
        .expect("the fixture has a snapshot");
    let limits = &app.data().limits;
    terminal
        .draw(|frame| {
            let mut rooms: Vec<_> = snapshot.rooms.values().collect();
            rooms.sort_by_key(|room| std::cmp::Reverse(room.num_participants));
            let rows = rooms.iter().map(|room| {
                let limit = limit_for(limits, &room.name);
                Row::new(vec![
                    room.name.clone(),
                    format!("{}/{}", room.num_participants, limit.max_participants),
                    format!("{}/{}", room.tracks.live_audio(), limit.max_audio_tracks),
                    format!("{}/{}", room.tracks.live_video(), limit.max_video_tracks),
                    room.num_publishers.to_string(),
                ])
            });
            let table = Table::new(
                rows,
                [
                    Constraint::Fill(1),
                    Constraint::Length(8),
                    Constraint::Length(8),
                    Constraint::Length(8),
                    Constraint::Length(6),
                ],
            )
            .block(Block::default().borders(Borders::ALL));
            frame.render_stateful_widget(table, frame.area(), state);
        })
        .expect("drawing into a test backend cannot fail");
}

fn main() {
    println!(
        "rooms screen, one frame at {WIDTH}x{HEIGHT}, median of {FRAMES} frames \
         (lktop: the whole dashboard; peer: the table alone)"
    );
    println!(
        "{:>7} | {:>12} | {:>16} | {:>6}",
        "rooms", "lktop", "every row (peer)", "ratio"
    );
    for rooms in [100, 1_000, 10_000] {
        let mut app = sample_app(rooms, WIDTH, HEIGHT);
        app.screen = Screen::Rooms;
        let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("test backend");
        let ours = time_frames(|| {
            terminal
                .draw(|frame| lktop::tui::render::draw(frame, black_box(&app)))
                .expect("drawing into a test backend cannot fail");
        });
        let mut state = TableState::default().with_selected(Some(rooms / 2));
        let peer = time_frames(|| draw_every_row(&mut terminal, black_box(&app), &mut state));
        println!(
            "{rooms:>7} | {:>9.1} µs | {:>13.1} µs | {:>5.1}x",
            ours.as_secs_f64() * 1e6,
            peer.as_secs_f64() * 1e6,
            peer.as_secs_f64() / ours.as_secs_f64()
        );
    }
}
