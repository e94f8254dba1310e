//! The nodes behind a server's API: the media plane from livekit-server's Prometheus endpoint
//! (`metrics_url`) and state and load from the cluster's node registry in Redis
//! (`redis_url`), merged per node and checked against `media_limits`. Part of the engine: it
//! reports through the same event stream and never imports the TUI.

pub mod exposition;
mod health;
mod media_limits;
mod node_counters;
mod node_scrape;
mod rates;
mod registry;
mod scrape;
mod watcher;

pub use health::{
    CountDrift, MediaViolation, NodeChange, NodeHealth, NodeSource, SourceState, SourceStatus,
};
pub use node_scrape::NodeScrape;
pub(crate) use watcher::NodeWatcher;
