//! The nodes behind a server's API: the media plane from livekit-server's Prometheus endpoint
//! (`metrics_url`) and state and load from the cluster's node registry in Redis
//! (`redis_url`), merged per node and checked against `media_limits`. Part of the engine: it
//! reports through the same event stream and never imports the TUI.

pub mod exposition;
mod health;
mod media_limits;
mod merge;
mod node_counters;
mod node_scrape;
mod rates;
mod reader;
mod registry;
mod scrape;

pub use health::{
    CountDrift, MediaViolation, NodeChange, NodeHealth, NodeSource, SourceState, SourceStatus,
};
pub(crate) use media_limits::media_violations;
pub use media_limits::node_breaches;
pub use node_scrape::NodeScrape;
pub use reader::{NodeReader, NodeReading};
