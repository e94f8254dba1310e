//! Ingress: streams sent into the rooms from outside (RTMP, WHIP, a URL), as livekit-server
//! and the ingress service report them through `livekit.Ingress`.
//!
//! There is no encoder, so the sandbox decides when a stream comes in: an ingress created
//! through the API starts receiving at once, one of a scenario when the scenario says. A
//! stream coming in takes the ingress from `ENDPOINT_INACTIVE` to `ENDPOINT_BUFFERING`, then
//! (after [`BUFFERING_MS`]) to `ENDPOINT_PUBLISHING`: a participant of kind `INGRESS` joins
//! the room and publishes an audio and a video track. When the stream stops the participant
//! leaves and the ingress is `ENDPOINT_INACTIVE` again (reusable RTMP and WHIP ingress) or
//! `ENDPOINT_COMPLETE` (URL ingress); a failed stream leaves it `ENDPOINT_ERROR`. Publishing
//! and its end go out as the `ingress_started` and `ingress_ended` webhooks.
//!
//! The files: `lifecycle` (creating, updating, deleting, the state machine) and `service`
//! (the Twirp methods).

mod lifecycle;
pub(crate) mod service;

use livekit_protocol as proto;

/// How long a stream is buffered before the ingress publishes it.
pub(crate) const BUFFERING_MS: i64 = 2_000;

/// One ingress: its info and whether a stream comes in.
#[derive(Debug, Clone)]
pub(crate) struct IngressRecord {
    info: proto::IngressInfo,
    /// Whether a stream is coming in: the sandbox's stand-in for an encoder.
    receiving: bool,
    /// When BUFFERING becomes PUBLISHING.
    publish_at_ms: Option<i64>,
    /// The room and identity of its participant while it publishes.
    publishing_as: Option<(String, String)>,
}

/// Every ingress, oldest first, and where their streams are sent.
#[derive(Debug, Clone)]
pub(crate) struct Ingresses {
    records: Vec<IngressRecord>,
    /// `rtmp://HOST:1935/x`: the ingress service's RTMP base URL.
    rtmp_url: String,
    /// `http://HOST:8080/w`: the ingress service's WHIP base URL.
    whip_url: String,
}

impl Default for Ingresses {
    fn default() -> Self {
        Self::at_host("127.0.0.1")
    }
}

impl Ingresses {
    /// Ingress URLs on `host`, at the ingress service's default ports and paths.
    fn at_host(host: &str) -> Self {
        Self {
            records: Vec::new(),
            rtmp_url: format!("rtmp://{host}:1935/x"),
            whip_url: format!("http://{host}:8080/w"),
        }
    }

    /// Names the sandbox's host in the URLs ingress streams are sent to.
    pub(crate) fn set_host(&mut self, host: &str) {
        let records = std::mem::take(&mut self.records);
        *self = Self {
            records,
            ..Self::at_host(host)
        };
    }

    fn index_of(&self, ingress_id: &str) -> Option<usize> {
        self.records
            .iter()
            .position(|record| record.info.ingress_id == ingress_id)
    }

    fn get_mut(&mut self, ingress_id: &str) -> Option<&mut IngressRecord> {
        self.records
            .iter_mut()
            .find(|record| record.info.ingress_id == ingress_id)
    }
}
