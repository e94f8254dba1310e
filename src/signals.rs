//! The process signals lktop answers: the three that ask it to stop (each ends it with the
//! conventional status, 128 + the signal's number) and, for the dashboard, the job-control pair
//! that suspends and resumes it.

use std::process::ExitCode;

/// A signal lktop acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT (Ctrl-C where the terminal is not in raw mode).
    Interrupt,
    /// SIGTERM: a service manager or `kill`.
    Terminate,
    /// SIGHUP: the terminal went away.
    Hangup,
    /// SIGTSTP: `kill -TSTP`; Ctrl-Z in the dashboard arrives as a key and takes the same way.
    Suspend,
    /// SIGCONT: resumed after a stop (by `fg`, or after a SIGSTOP lktop could not see).
    Continue,
}

impl Signal {
    /// The exit status of a process that ends on this signal: 128 + its number.
    #[must_use]
    pub(crate) fn exit_code(self) -> Option<ExitCode> {
        match self {
            Self::Hangup => Some(ExitCode::from(129)),
            Self::Interrupt => Some(ExitCode::from(130)),
            Self::Terminate => Some(ExitCode::from(143)),
            Self::Suspend | Self::Continue => None,
        }
    }

    #[must_use]
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Interrupt => "SIGINT",
            Self::Terminate => "SIGTERM",
            Self::Hangup => "SIGHUP",
            Self::Suspend => "SIGTSTP",
            Self::Continue => "SIGCONT",
        }
    }
}

/// The signals of one kind of run: stop signals only, or job control too.
pub(crate) struct Signals {
    #[cfg(unix)]
    streams: Vec<(Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    /// SIGINT, SIGTERM and SIGHUP.
    ///
    /// # Errors
    /// A handler cannot be installed.
    pub(crate) fn stop() -> std::io::Result<Self> {
        Self::of(&[Signal::Interrupt, Signal::Terminate, Signal::Hangup])
    }

    /// The stop signals, SIGTSTP and SIGCONT. Once SIGTSTP has a handler the process no longer
    /// stops on it by itself: whoever receives [`Signal::Suspend`] must call [`suspend_self`].
    ///
    /// # Errors
    /// A handler cannot be installed.
    pub(crate) fn with_job_control() -> std::io::Result<Self> {
        Self::of(&[
            Signal::Interrupt,
            Signal::Terminate,
            Signal::Hangup,
            Signal::Suspend,
            Signal::Continue,
        ])
    }

    #[cfg(unix)]
    fn of(wanted: &[Signal]) -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        let streams = wanted
            .iter()
            .map(|&which| {
                let kind = match which {
                    Signal::Interrupt => SignalKind::interrupt(),
                    Signal::Terminate => SignalKind::terminate(),
                    Signal::Hangup => SignalKind::hangup(),
                    Signal::Suspend => SignalKind::from_raw(signal_hook::consts::SIGTSTP),
                    Signal::Continue => SignalKind::from_raw(signal_hook::consts::SIGCONT),
                };
                signal(kind).map(|stream| (which, stream))
            })
            .collect::<std::io::Result<_>>()?;
        Ok(Self { streams })
    }

    #[cfg(not(unix))]
    fn of(_wanted: &[Signal]) -> std::io::Result<Self> {
        Ok(Self {})
    }

    /// The next signal.
    pub(crate) async fn recv(&mut self) -> Signal {
        #[cfg(unix)]
        {
            let polls = self.streams.iter_mut().map(|(which, stream)| {
                let which = *which;
                Box::pin(async move {
                    stream.recv().await;
                    which
                })
            });
            futures_util::future::select_all(polls).await.0
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            Signal::Interrupt
        }
    }
}

/// Stops the process as SIGTSTP would without a handler, and returns once it is continued
/// (`fg`). The caller gives the terminal back first and takes it again after.
pub(crate) fn suspend_self() {
    #[cfg(unix)]
    {
        // SIGTSTP's default action, a stop, by raising SIGSTOP (which no handler can catch):
        // the shell sees a normal stop, and lktop's SIGTSTP handler stays for the next time.
        if let Err(err) =
            signal_hook::low_level::emulate_default_handler(signal_hook::consts::SIGTSTP)
        {
            tracing::warn!(%err, "could not suspend");
        }
    }
}
