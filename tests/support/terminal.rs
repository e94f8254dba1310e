//! lktop in a pseudo-terminal, as a person runs it: the pty, the VT100 emulator its output is
//! read into, and the command with an environment of its own. For the pty tests and the
//! benches that time keys and startup, which include this with `#[path]`.

#![allow(
    dead_code,
    reason = "each file that includes the terminal uses only a part of it"
)]

use std::num::NonZeroU16;
use std::path::Path;

use portable_pty::{CommandBuilder, PtyPair, PtySize, native_pty_system};

/// The size of a terminal of `rows` x `cols` cells.
pub fn size(rows: u16, cols: u16) -> PtySize {
    PtySize {
        rows,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}

/// A pseudo-terminal of `rows` x `cols` cells.
pub fn open(rows: u16, cols: u16) -> PtyPair {
    native_pty_system()
        .openpty(size(rows, cols))
        .expect("a pseudo-terminal")
}

/// The emulator that reads a terminal of `rows` x `cols` cells, with no scrollback.
pub fn emulator(rows: u16, cols: u16) -> vt100::Parser {
    vt100::Parser::new(
        NonZeroU16::new(rows).expect("a terminal has rows"),
        NonZeroU16::new(cols).expect("a terminal has columns"),
        0,
    )
}

/// `program` started in `home`, with none of the caller's environment but `PATH`: its home,
/// configuration and log file are the test's own, and the terminal is an ordinary xterm.
pub fn command(program: &str, home: &Path) -> CommandBuilder {
    let mut command = CommandBuilder::new(program);
    command.cwd(home);
    command.env_clear();
    command.env("HOME", home);
    command.env("TERM", "xterm-256color");
    command.env("PATH", std::env::var("PATH").unwrap_or_default());
    command.env("LKTOP_LOG_FILE", home.join("lktop.log"));
    command
}
