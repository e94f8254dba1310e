//! HTTP/1 listeners a client cannot exhaust, for servers that face whatever connects to them.
//!
//! hyper serves a connection for as long as the client keeps it, reads headers for as long as
//! they trickle in (its `header_read_timeout` does nothing without a timer), and hands the
//! handler a body of any size. Every listener built here instead:
//!
//! - closes a connection whose request head has not fully arrived within
//!   [`ListenerLimits::header_read_timeout`] (slowloris, and idle kept-alive connections);
//! - answers `431` to a head with more than [`ListenerLimits::max_headers`] headers (hyper's
//!   own answer once its limit is set);
//! - hands the handler a [`GuardedBody`]: one that declares more than
//!   [`ListenerLimits::max_body_bytes`] fails before a byte of it is read, any other once that
//!   many have arrived, so [`read_body`] never holds more; the handler answers `413` (its own
//!   words, counted its own way) and hyper closes the connection rather than drain the rest;
//! - holds at most [`ListenerLimits::max_connections`] connections open: one over the cap is
//!   accepted and closed at once, counted, and logged when the listener reaches its cap and
//!   when it is below it again ([`ConnectionCap`]);
//! - warns when it is bound to an address other machines can reach ([`bind`]).
//!
//! [`accept_until`] is the whole accept loop; [`ConnectionCap::admit`] and [`serve_connection`]
//! are its two halves, for a server that runs its own loop.

mod accept;
mod bind;
mod body;
mod cap;
mod connection;
mod limits;

pub use accept::accept_until;
pub use bind::bind;
pub use body::{BodyError, GuardedBody, read_body};
pub use cap::{Admitted, ConnectionCap};
pub use connection::serve_connection;
pub use limits::ListenerLimits;
