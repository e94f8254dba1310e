//! Webhooks as livekit-server sends them (livekit/protocol `webhook/url_notifier.go`): a POST
//! per event to every configured URL (plain `http://`: the sandbox runs next to its receiver), `Content-Type: application/webhook+json`, the body the
//! event in protojson (lowerCamelCase, int64 as strings, zero values left out), and
//! `Authorization` a bare JWT signed with the server's API key and secret, valid 5 minutes,
//! whose `sha256` claim is base64 of the SHA-256 of the body.
//!
//! The rooms put events in a bounded queue and never wait on it: when the sender falls behind
//! events are dropped and counted, as livekit-server drops them when its queue is full. The
//! sender numbers each event (`id`, `EV_…`) and applies the webhook faults: drop, delay,
//! duplicate, reorder.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use livekit_api::access_token::AccessToken;
use livekit_protocol as proto;
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::faults::Faults;

/// `Content-Type` of every webhook.
pub const CONTENT_TYPE: &str = "application/webhook+json";
/// Events waiting for the sender before new ones are dropped (livekit-server keeps 100 per
/// URL; the sandbox's simulation makes bursts of thousands at start).
const QUEUE: usize = 20_000;
/// How long a webhook's token is valid, as livekit-server signs it.
const TOKEN_VALIDITY: Duration = Duration::from_secs(300);
/// Longest wait for one receiver's answer.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// A held event (`webhook_reorder`) goes out alone after this long without a next one.
const REORDER_HOLD: Duration = Duration::from_millis(200);
/// How long the sender waits for an event when none is held (it waits again after).
const IDLE: Duration = Duration::from_secs(3600);

/// Where the sandbox sends webhooks, and the key that signs them.
#[derive(Clone)]
pub struct WebhookOptions {
    pub urls: Vec<String>,
    pub api_key: String,
    pub api_secret: SecretString,
}

impl std::fmt::Debug for WebhookOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookOptions")
            .field("urls", &self.urls)
            .field("api_key", &self.api_key)
            .finish_non_exhaustive()
    }
}

/// What the rooms hand events to. Never blocks.
#[derive(Debug, Clone)]
pub(crate) struct WebhookQueue {
    events: mpsc::Sender<proto::WebhookEvent>,
    counts: Arc<WebhookCounts>,
}

/// Webhooks by what became of them, for `/sandbox/status` and tests.
#[derive(Debug, Default)]
pub(crate) struct WebhookCounts {
    pub(crate) queued: AtomicU64,
    /// The queue was full.
    pub(crate) overflowed: AtomicU64,
    /// Answered with a 2xx.
    pub(crate) delivered: AtomicU64,
    /// Answered otherwise, or not at all.
    pub(crate) failed: AtomicU64,
    /// Left out on purpose (`webhook_drop_rate`).
    pub(crate) dropped_by_fault: AtomicU64,
    /// Sent a second time on purpose (`webhook_duplicate_rate`).
    pub(crate) duplicated: AtomicU64,
}

/// What became of the webhooks so far: `/sandbox/status`'s `webhooks`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct WebhookTally {
    pub queued: u64,
    pub overflowed: u64,
    pub delivered: u64,
    pub failed: u64,
    pub dropped_by_fault: u64,
    pub duplicated: u64,
}

impl WebhookCounts {
    pub(crate) fn tally(&self) -> WebhookTally {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        WebhookTally {
            queued: load(&self.queued),
            overflowed: load(&self.overflowed),
            delivered: load(&self.delivered),
            failed: load(&self.failed),
            dropped_by_fault: load(&self.dropped_by_fault),
            duplicated: load(&self.duplicated),
        }
    }
}

impl WebhookQueue {
    pub(crate) fn post(&self, event: proto::WebhookEvent) {
        match self.events.try_send(event) {
            Ok(()) => bump(&self.counts.queued),
            Err(_) => bump(&self.counts.overflowed),
        }
    }
}

/// The `Authorization` header of a webhook, marked sensitive: the signed token in it is a
/// credential, and debug output of the request then prints `Sensitive`.
fn authorization(token: &str) -> Option<http::HeaderValue> {
    let mut value = http::HeaderValue::from_str(token).ok()?;
    value.set_sensitive(true);
    Some(value)
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Starts the sender; the queue goes to the rooms.
pub(crate) fn start(
    options: WebhookOptions,
    faults: Arc<dyn Fn() -> Faults + Send + Sync>,
    seed: u64,
    shutdown: CancellationToken,
    tasks: &tokio_util::task::TaskTracker,
) -> (WebhookQueue, Arc<WebhookCounts>) {
    let (events, queue) = mpsc::channel(QUEUE);
    let counts = Arc::new(WebhookCounts::default());
    let sender = Sender {
        options,
        client: Client::builder(TokioExecutor::new()).build_http(),
        faults,
        rng: ChaCha8Rng::seed_from_u64(seed ^ 0x0eb_400c),
        counts: Arc::clone(&counts),
    };
    tasks.spawn(sender.run(queue, shutdown));
    (
        WebhookQueue {
            events,
            counts: Arc::clone(&counts),
        },
        counts,
    )
}

struct Sender {
    options: WebhookOptions,
    client: Client<HttpConnector, Full<Bytes>>,
    faults: Arc<dyn Fn() -> Faults + Send + Sync>,
    rng: ChaCha8Rng,
    counts: Arc<WebhookCounts>,
}

impl Sender {
    /// One event after another, in the order the rooms made them unless `webhook_reorder`
    /// swaps neighbours.
    async fn run(
        mut self,
        mut queue: mpsc::Receiver<proto::WebhookEvent>,
        stop: CancellationToken,
    ) {
        let mut held: Option<proto::WebhookEvent> = None;
        loop {
            let wait = if held.is_some() { REORDER_HOLD } else { IDLE };
            let next = tokio::select! {
                () = stop.cancelled() => return,
                next = queue.recv() => match next {
                    Some(event) => Some(event),
                    None => return,
                },
                () = tokio::time::sleep(wait) => None,
            };
            let Some(mut event) = next else {
                // Nothing came after the held event: it goes out alone.
                if let Some(alone) = held.take() {
                    self.deliver(alone).await;
                }
                continue;
            };
            event.id = self.event_id();
            let faults = (self.faults)();
            if let Some(before) = held.take() {
                // The held event goes out after the one that came after it.
                self.deliver(event).await;
                self.deliver(before).await;
                continue;
            }
            if faults.webhook_reorder {
                held = Some(event);
                continue;
            }
            self.deliver(event).await;
        }
    }

    /// Sends one event to every URL, after the faults have had their say.
    async fn deliver(&mut self, event: proto::WebhookEvent) {
        let faults = (self.faults)();
        if self.rng.random::<f64>() < faults.webhook_drop_rate {
            bump(&self.counts.dropped_by_fault);
            return;
        }
        if faults.webhook_delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(faults.webhook_delay_ms)).await;
        }
        let times = if self.rng.random::<f64>() < faults.webhook_duplicate_rate {
            bump(&self.counts.duplicated);
            2
        } else {
            1
        };
        let Some((body, token)) = self.signed(&event) else {
            bump(&self.counts.failed);
            return;
        };
        let Some(authorization) = authorization(&token) else {
            bump(&self.counts.failed);
            return;
        };
        for _ in 0..times {
            for url in &self.options.urls {
                let request = http::Request::post(url.as_str())
                    .header(http::header::CONTENT_TYPE, CONTENT_TYPE)
                    .header(http::header::AUTHORIZATION, authorization.clone())
                    .header(http::header::USER_AGENT, "LiveKit")
                    .body(Full::new(Bytes::from(body.clone())));
                let Ok(request) = request else {
                    bump(&self.counts.failed);
                    tracing::debug!(%url, "not a URL a webhook can be sent to");
                    continue;
                };
                match tokio::time::timeout(SEND_TIMEOUT, self.client.request(request)).await {
                    Ok(Ok(answer)) if answer.status().is_success() => {
                        bump(&self.counts.delivered);
                    }
                    Ok(Ok(answer)) => {
                        bump(&self.counts.failed);
                        tracing::debug!(%url, status = %answer.status(), "webhook refused");
                    }
                    Ok(Err(err)) => {
                        bump(&self.counts.failed);
                        tracing::debug!(%url, %err, "webhook not delivered");
                    }
                    Err(_) => {
                        bump(&self.counts.failed);
                        tracing::debug!(%url, "webhook not answered in time");
                    }
                }
            }
        }
    }

    /// The body and its token.
    fn signed(&self, event: &proto::WebhookEvent) -> Option<(Vec<u8>, String)> {
        let body = serde_json::to_vec(event).ok()?;
        let digest = Sha256::digest(&body);
        let sha256 = base64::engine::general_purpose::STANDARD.encode(digest);
        let token = AccessToken::with_api_key(
            &self.options.api_key,
            self.options.api_secret.expose_secret(),
        )
        .with_ttl(TOKEN_VALIDITY)
        .with_sha256(&sha256)
        .to_jwt()
        .ok()?;
        Some((body, token))
    }

    /// `EV_` and 12 letters or digits, as livekit-server's event ids look.
    fn event_id(&mut self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let suffix: String = (0..12)
            .map(|_| char::from(ALPHABET[self.rng.random_range(0..ALPHABET.len())]))
            .collect();
        format!("EV_{suffix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authorization_header_is_sensitive() {
        let header = authorization("eyJhbGciOiJIUzI1NiJ9.e30.c2ln").expect("a header value");
        assert!(header.is_sensitive());
        assert_eq!(format!("{header:?}"), "Sensitive");
        assert!(authorization("line\nbreak").is_none());
    }
}
