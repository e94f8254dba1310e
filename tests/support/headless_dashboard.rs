//! The dashboard without a terminal: every engine event goes through the real `update` into an
//! `App`, which is then drawn into a ratatui `TestBackend` — what the live dashboard does with
//! each event, minus the terminal. A panic in either fails the test that feeds it.

use lktop::config::RoomLimitsConfig;
use lktop::events::{EngineEvent, now_ms};
use lktop::tui::keys::Keymap;
use lktop::tui::{Action, App, Mode, update};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

pub struct HeadlessDashboard {
    app: App,
    terminal: Terminal<TestBackend>,
}

impl HeadlessDashboard {
    /// The live dashboard (no sandbox of its own) on its overview, `width` x `height` cells.
    pub fn new(width: u16, height: u16) -> Self {
        let mut app = App::new(
            Mode::Live { sandbox: None },
            Keymap::default(),
            RoomLimitsConfig::default(),
            now_ms(),
        );
        let _ = update(&mut app, Action::Resize { width, height });
        let terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
        Self { app, terminal }
    }

    /// Folds one engine event in and draws a frame.
    pub fn show(&mut self, event: &EngineEvent) {
        let effects = update(&mut self.app, Action::Engine(Box::new(event.clone())));
        assert!(
            effects.is_empty(),
            "an engine event asks the event loop for nothing: {effects:?}"
        );
        self.draw();
    }

    /// Takes one user action (a key, a resize) and draws a frame.
    pub fn act(&mut self, action: Action) {
        let _ = update(&mut self.app, action);
        self.draw();
    }

    fn draw(&mut self) {
        let app = &self.app;
        self.terminal
            .draw(|frame| lktop::tui::render::draw(frame, app))
            .expect("drawing into a test backend never fails");
    }

    /// The last frame, one string per row.
    pub fn screen(&self) -> Vec<String> {
        let buffer = self.terminal.backend().buffer();
        let area = buffer.area;
        (area.top()..area.bottom())
            .map(|y| {
                (area.left()..area.right())
                    .map(|x| buffer[(x, y)].symbol())
                    .collect()
            })
            .collect()
    }

    /// The words of `server`'s row in the overview's server table, as last drawn.
    pub fn server_row(&self, server: &str) -> Option<Vec<String>> {
        self.screen().into_iter().find_map(|line| {
            let words: Vec<String> = line
                .split(|c: char| c.is_whitespace() || c == '│')
                .filter(|word| !word.is_empty())
                .map(str::to_owned)
                .collect();
            // The detail pane's title also starts with the name, followed by a `·`.
            (words.first().map(String::as_str) == Some(server)
                && words.get(1).map(String::as_str) != Some("·"))
            .then_some(words)
        })
    }

    /// The state the overview shows for `server` ("up", "down", ...), as last drawn.
    pub fn server_state(&self, server: &str) -> Option<String> {
        self.server_row(server)?.get(1).cloned()
    }

    /// True when some row of the last frame contains `text`.
    pub fn shows(&self, text: &str) -> bool {
        self.screen().iter().any(|line| line.contains(text))
    }

    /// Whether the dashboard shows `server` in `state` (`up`, `down`, ...).
    pub fn shows_server_as(&self, server: &str, state: &str) -> bool {
        self.server_state(server).as_deref() == Some(state)
    }
}
