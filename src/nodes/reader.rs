//! One reading of a server's nodes: every metrics endpoint scraped and the registry read,
//! side by side, each within the timeout, merged by node id. Rates need the previous scrape of
//! the same endpoint, which the reader keeps; after a failed scrape it starts again, since
//! rates over an outage would average over it.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use futures_util::future::join_all;

use super::health::{NodeHealth, NodeSource, SourceState, SourceStatus};
use super::merge::{ScrapedNode, merge};
use super::node_scrape::NodeScrape;
use super::rates::media_figures;
use super::registry::{RegisteredNode, Registry};
use super::scrape::{BasicAuth, scrape};
use crate::config::{Config, ServerConfig};

/// Reads one server's node sources.
pub struct NodeReader {
    metrics_urls: Vec<String>,
    auth: Option<BasicAuth>,
    registry: Option<Registry>,
    http: reqwest::Client,
    timeout: Duration,
    /// Per endpoint: its previous good scrape, and when it was taken.
    previous: HashMap<String, (Instant, NodeScrape)>,
}

/// What one reading found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeReading {
    pub nodes: Vec<NodeHealth>,
    pub sources: Vec<SourceStatus>,
}

impl NodeReading {
    /// Whether no source could be read.
    #[must_use]
    pub fn all_failed(&self) -> bool {
        self.sources.iter().all(|s| s.state != SourceState::Up)
    }
}

impl NodeReader {
    /// `None` when the server has neither `metrics_url` nor `redis_url`.
    ///
    /// # Errors
    /// The HTTP client or the Redis client cannot be built.
    pub fn new(server: &ServerConfig, timeout: Duration) -> Result<Option<Self>, String> {
        if server.metrics_url.is_empty() && server.redis_url.is_none() {
            return Ok(None);
        }
        let registry = server
            .redis_url
            .as_ref()
            .map(|url| Registry::new(url, timeout))
            .transpose()?;
        let auth = match (&server.metrics_username, server.metrics_password()) {
            (Some(username), Some(password)) => Some(BasicAuth {
                username: username.clone(),
                password: password.clone(),
            }),
            _ => None,
        };
        Ok(Some(Self {
            metrics_urls: server.metrics_url.iter().map(str::to_owned).collect(),
            auth,
            registry,
            http: crate::api::build_http_client().map_err(|err| err.to_string())?,
            timeout,
            previous: HashMap::new(),
        }))
    }

    /// The sources `server` has configured.
    #[must_use]
    pub fn configured(server: &ServerConfig) -> Vec<NodeSource> {
        let mut sources = Vec::new();
        if !server.metrics_url.is_empty() {
            sources.push(NodeSource::Metrics);
        }
        if server.redis_url.is_some() {
            sources.push(NodeSource::Redis);
        }
        sources
    }

    /// Per server, the sources configured; servers with none are left out.
    #[must_use]
    pub fn configured_by_server(config: &Config) -> BTreeMap<String, Vec<NodeSource>> {
        config
            .servers
            .iter()
            .map(|server| (server.name.clone(), Self::configured(server)))
            .filter(|(_, sources)| !sources.is_empty())
            .collect()
    }

    /// Reads every source once; a registry entry older than `stale_after` marks its node
    /// stale.
    pub async fn read(&mut self, stale_after: Duration) -> NodeReading {
        let scrapes = join_all(self.metrics_urls.iter().map(|url| {
            let started = Instant::now();
            let reading = scrape(&self.http, url, self.auth.as_ref(), self.timeout);
            async move { (reading.await, started.elapsed(), Instant::now()) }
        }));
        let registry = async {
            match self.registry.as_mut() {
                Some(registry) => {
                    let started = Instant::now();
                    Some((registry.read().await, started.elapsed()))
                }
                None => None,
            }
        };
        let (scrapes, registry) = tokio::join!(scrapes, registry);

        let mut sources = Vec::new();
        let mut by_node: BTreeMap<String, ScrapedNode> = BTreeMap::new();
        for (url, (reading, took, at)) in self.metrics_urls.iter().zip(scrapes) {
            match reading {
                Ok(reading) => {
                    let previous = self.previous.remove(url);
                    for (node_id, counters) in &reading.nodes {
                        let figures = previous
                            .as_ref()
                            .and_then(|(then, before)| {
                                Some(media_figures(
                                    before.nodes.get(node_id)?,
                                    counters,
                                    at.duration_since(*then),
                                ))
                            })
                            .unwrap_or_default();
                        by_node
                            .entry(node_id.clone())
                            .or_insert_with(|| (Some(url.clone()), counters.clone(), figures));
                    }
                    self.previous.insert(url.clone(), (at, reading));
                    sources.push(status(NodeSource::Metrics, url, Ok(()), took));
                }
                Err(err) => {
                    self.previous.remove(url);
                    sources.push(status(
                        NodeSource::Metrics,
                        url,
                        Err((err.state, err.message)),
                        took,
                    ));
                }
            }
        }
        let mut registered: Vec<RegisteredNode> = Vec::new();
        if let (Some((reading, took)), Some(registry)) = (registry, self.registry.as_ref()) {
            let target = registry.target();
            match reading {
                Ok(nodes) => {
                    registered = nodes;
                    sources.push(status(NodeSource::Redis, &target, Ok(()), took));
                }
                Err(err) => sources.push(status(
                    NodeSource::Redis,
                    &target,
                    Err((err.state, err.message)),
                    took,
                )),
            }
        }
        NodeReading {
            nodes: merge(by_node, registered, stale_after),
            sources,
        }
    }
}

fn status(
    source: NodeSource,
    target: &str,
    outcome: Result<(), (SourceState, String)>,
    took: Duration,
) -> SourceStatus {
    let (state, error) = match outcome {
        Ok(()) => (SourceState::Up, None),
        Err((state, message)) => (state, Some(message)),
    };
    SourceStatus {
        source,
        target: target.to_owned(),
        state,
        error,
        took_ms: u64::try_from(took.as_millis()).ok(),
    }
}
