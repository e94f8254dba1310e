//! LiveKit webhooks: the listener that takes them (`listener`), the causes it refuses them for
//! (`rejections`), which to apply (`ledger`: duplicates and order) and what each does to a
//! server's snapshot (`apply`). The engine's workers route each to its server and reconcile
//! them with polling.

mod apply;
mod ledger;
mod listener;
mod notes;
mod rejections;
mod verifier;

pub use apply::{Applied, apply};
pub use ledger::{Admission, Ledger};
pub use listener::{Arrival, MAX_BODY, Route, serve};
pub use notes::{Drift, DriftKind, WebhookNote, WebhookTotals};
pub use rejections::{Rejection, Rejections};
pub use verifier::WebhookVerifier;
