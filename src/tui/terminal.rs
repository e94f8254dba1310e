//! Taking over the terminal and giving it back on every way out: a normal quit, an error
//! (the guard's `Drop`), and a panic (a hook that restores before the panic report prints).

use std::io::{self, Write};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::execute;
use ratatui::DefaultTerminal;
use ratatui::layout::Rect;

/// The dashboard's terminal; restored when dropped.
pub(crate) struct TerminalGuard {
    terminal: DefaultTerminal,
}

impl TerminalGuard {
    /// Raw mode, the alternate screen, mouse capture and bracketed paste. Installs a panic
    /// hook (after color-eyre's, which it then calls) that restores the terminal first, so
    /// the panic report is readable and the shell works afterwards.
    ///
    /// # Errors
    /// The terminal cannot be switched to raw mode or the alternate screen.
    pub(crate) fn enter() -> io::Result<Self> {
        let terminal = ratatui::try_init()?;
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
        if let Err(err) = execute!(io::stdout(), EnableMouseCapture, EnableBracketedPaste) {
            restore();
            return Err(err);
        }
        Ok(Self { terminal })
    }

    pub(crate) fn terminal(&mut self) -> &mut DefaultTerminal {
        &mut self.terminal
    }

    /// Takes the terminal again after a suspend, and draws every cell on the next frame.
    ///
    /// # Errors
    /// The terminal cannot be switched back to raw mode or the alternate screen.
    pub(crate) fn resume(&mut self) -> io::Result<()> {
        crossterm::terminal::enable_raw_mode()?;
        execute!(
            io::stdout(),
            crossterm::terminal::EnterAlternateScreen,
            EnableMouseCapture,
            EnableBracketedPaste
        )?;
        self.redraw_all()
    }

    /// Clears the screen and makes the next frame draw every cell. Not `Terminal::clear`:
    /// ratatui-core 0.1.2's asks the terminal for the cursor position, and the answer never
    /// reaches it while crossterm's `EventStream` thread holds the input reader, so after a
    /// 2 s timeout the dashboard ended with an error on every `fg` or SIGCONT. A resize to
    /// the whole terminal clears and resets the same way without asking anything.
    ///
    /// # Errors
    /// The terminal's size cannot be read or the screen cannot be cleared.
    pub(crate) fn redraw_all(&mut self) -> io::Result<()> {
        let size = self.terminal.size()?;
        self.terminal
            .resize(Rect::new(0, 0, size.width, size.height))
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Idempotent: safe to run from the panic hook and again from the guard.
pub(crate) fn restore() {
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        DisableBracketedPaste,
        crossterm::cursor::Show
    );
    ratatui::restore();
    let _ = io::stdout().flush();
}
