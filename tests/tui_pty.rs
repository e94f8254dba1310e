//! The real `lktop` binary in a pseudo-terminal, against its built-in sandbox: it starts in
//! demo mode, keys navigate, open a room, show help, edit a limit and quit, and the terminal
//! is given back (main screen, cursor shown, mouse and paste modes off) — also after a panic.
//! Screens are read through a VT100 emulator. Bounded: every wait has a deadline.

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

const ROWS: u16 = 30;
const COLS: u16 = 110;
const WAIT: Duration = Duration::from_secs(30);

struct Session {
    master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    screen: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    _home: tempfile::TempDir,
}

impl Session {
    fn start(extra_env: &[(&str, &str)]) -> Self {
        let home = tempfile::tempdir().unwrap();
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_lktop"));
        command.cwd(home.path());
        command.env_clear();
        command.env("HOME", home.path());
        command.env("TERM", "xterm-256color");
        command.env("PATH", std::env::var("PATH").unwrap_or_default());
        command.env("LKTOP_LOG_FILE", home.path().join("lktop.log"));
        for (name, value) in extra_env {
            command.env(name, value);
        }
        let child = pty.slave.spawn_command(command).unwrap();
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            NonZeroU16::new(ROWS).unwrap(),
            NonZeroU16::new(COLS).unwrap(),
            0,
        )));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let (screen_in, raw_in) = (Arc::clone(&screen), Arc::clone(&raw));
        thread::spawn(move || {
            let mut buffer = [0_u8; 8192];
            while let Ok(read) = reader.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                screen_in.lock().unwrap().process(&buffer[..read]);
                raw_in.lock().unwrap().extend_from_slice(&buffer[..read]);
            }
        });
        Self {
            master: pty.master,
            writer,
            child,
            screen,
            raw,
            _home: home,
        }
    }

    fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// Waits until the screen shows every one of `texts`; returns the screen.
    fn wait_for(&self, texts: &[&str]) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let contents = self.contents();
            if texts.iter().all(|text| contents.contains(text)) {
                return contents;
            }
            assert!(
                Instant::now() < deadline,
                "waited {WAIT:?} for {texts:?}; the screen shows:\n{contents}"
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        // One key per frame, as a person types.
        thread::sleep(Duration::from_millis(150));
    }

    /// Waits for the process to end; returns its exit code.
    fn wait_exit(&mut self) -> u32 {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader drain what the process wrote last.
                thread::sleep(Duration::from_millis(200));
                return status.exit_code();
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!("lktop did not exit; the screen shows:\n{}", self.contents());
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// The terminal is as lktop found it: main screen, cursor visible, no mouse or paste mode.
    fn assert_restored(&self) {
        let parser = self.screen.lock().unwrap();
        let screen = parser.screen();
        assert!(!screen.alternate_screen(), "still on the alternate screen");
        assert!(!screen.hide_cursor(), "cursor still hidden");
        assert_eq!(
            screen.mouse_protocol_mode(),
            vt100::MouseProtocolMode::None,
            "mouse capture still on"
        );
        assert!(!screen.bracketed_paste(), "bracketed paste still on");
        let raw = self.raw.lock().unwrap();
        let text = String::from_utf8_lossy(&raw);
        assert!(
            text.contains("\x1b[?1049h"),
            "never entered the alternate screen"
        );
        assert!(
            text.contains("\x1b[?1049l"),
            "never left the alternate screen"
        );
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = &self.master;
    }
}

#[test]
fn a_new_user_navigates_the_demo_edits_a_limit_and_quits_cleanly() {
    let mut session = Session::start(&[]);
    session.wait_for(&[
        "demo: built-in sandbox at http://127.0.0.1:",
        "set LIVEKIT_URL",
    ]);
    // The demo's fixed rooms appear after the first poll.
    session.wait_for(&["sandbox", "Overview"]);

    session.send("3");
    session.wait_for(&["town-hall"]);
    // Filter down to the town hall and open it.
    session.send("/");
    session.send("town");
    session.send("\r");
    session.send("\r");
    let detail = session.wait_for(&["room town-hall", "Participant / track"]);
    assert!(
        detail.contains("Audio") || detail.contains("audio"),
        "{detail}"
    );

    session.send("?");
    session.wait_for(&["help", "quit", "freeze", "any other key closes"]);
    // Any key closes help (a lone ESC is avoided: the terminal may glue it to the next key
    // as alt+key); `3` goes back to the rooms list.
    session.send("?");
    session.send("3");
    session.wait_for(&["sort: name"]);

    // Global limits: concurrent rooms 10 → 11, applied by the engine.
    session.send("L");
    session.wait_for(&["Concurrent rooms"]);
    session.send("\x1b[C");
    session.wait_for(&["11"]);
    session.send("\r");
    session.wait_for(&["sent · #1 set limits: rooms 11"]);
    session.send("4");
    session.wait_for(&["done · #1 set limits: rooms 11"]);

    session.send("q");
    assert_eq!(session.wait_exit(), 0);
    session.assert_restored();
}

#[test]
fn a_panic_gives_the_terminal_back_before_the_report() {
    let mut session = Session::start(&[("LKTOP_DEBUG_PANIC", "1")]);
    let code = session.wait_exit();
    assert_ne!(code, 0);
    session.assert_restored();
    let raw = session.raw.lock().unwrap();
    let text = String::from_utf8_lossy(&raw);
    let left = text.find("\x1b[?1049l").unwrap();
    let report = text
        .find("panicking on purpose")
        .expect("the panic report is shown");
    assert!(
        report > left,
        "the report must come after the terminal is restored"
    );
}
