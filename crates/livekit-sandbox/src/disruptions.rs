//! Applying disruptions, and telling who listens when each begins and ends.
//!
//! A disruption runs on the sandbox's own task from start to end, whoever asked for it and
//! whether or not they wait for it: a restart whose caller went away (a timeout, a closed
//! connection) still brings the listener back. Each gets a number; its beginning and its end
//! (or its refusal) go out as [`DisruptionNotice`]s on a broadcast channel, so a dashboard can
//! announce the demo's scheduled faults as well as the ones it asked for.

use std::fmt::Write as _;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use livekit_protocol as proto;
use serde::Serialize;
use tokio::sync::oneshot;
use tokio::time::Instant;
use tokio_util::task::TaskTracker;

use super::faults::{Disruption, Faults, MediaFault};
use super::server::{ListenerState, Shared};

/// Downtime of a restart when none is given.
const DEFAULT_RESTART_DOWNTIME: Duration = Duration::from_secs(1);

/// Who asked for a disruption.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DisruptionOrigin {
    /// The admin endpoint or the Rust API.
    Admin,
    /// The scenario's schedule.
    Scheduled,
    /// A person at a client's controls, such as a demo key in lktop's dashboard.
    Interactive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticePhase {
    Began,
    Ended,
    Refused,
}

/// A disruption began, ended or was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisruptionNotice {
    /// The disruption's number; its notices share it.
    pub id: u64,
    pub origin: DisruptionOrigin,
    /// The scenario's name for a scheduled fault.
    pub name: Option<String>,
    pub phase: NoticePhase,
    /// What it does, e.g. "latency +300 ms (jitter 200 ms) for 20 s".
    pub description: String,
    /// How it ended, or why it was refused.
    pub detail: Option<String>,
}

/// What is still under way, so its end can be announced.
#[derive(Debug, Default)]
pub(super) struct UnderWay {
    /// The disruption whose request faults are set.
    faults: Option<Begun>,
    /// The disruption that took the listener down.
    listener_down: Option<Begun>,
    /// The drain that set the node `SHUTTING_DOWN`.
    draining: Option<Begun>,
}

#[derive(Debug, Clone)]
struct Begun {
    id: u64,
    origin: DisruptionOrigin,
    name: Option<String>,
    description: String,
    at: Instant,
}

impl Shared {
    /// Starts `disruption` on the sandbox's own task and returns its number and a receiver
    /// for its result: the sentence that says how it went ("restarted, back after 5.0 s"),
    /// sent once it has taken effect (a restart: once the listener is back).
    pub(crate) fn begin_disruption(
        self: &Arc<Self>,
        disruption: Disruption,
        origin: DisruptionOrigin,
        name: Option<String>,
        tasks: &TaskTracker,
    ) -> (u64, oneshot::Receiver<Result<String, String>>) {
        let id = self.next_disruption_id();
        let (done, result) = oneshot::channel();
        let shared = Arc::clone(self);
        let worker = tasks.clone();
        let begun = Begun {
            id,
            origin,
            name,
            description: disruption.describe(),
            at: Instant::now(),
        };
        tasks.spawn(async move {
            let outcome = shared.apply(disruption, begun, &worker).await;
            let _ = done.send(outcome);
        });
        (id, result)
    }

    /// Applies and waits; `Admin` origin.
    ///
    /// # Errors
    /// Fault rates outside 0..=1, or a sandbox shutting down.
    pub(crate) async fn disrupt(
        self: &Arc<Self>,
        disruption: Disruption,
        tasks: &TaskTracker,
    ) -> Result<String, String> {
        let (_, result) = self.begin_disruption(disruption, DisruptionOrigin::Admin, None, tasks);
        result
            .await
            .unwrap_or_else(|_| Err("the sandbox shut down".to_owned()))
    }

    async fn apply(
        self: &Arc<Self>,
        disruption: Disruption,
        begun: Begun,
        tasks: &TaskTracker,
    ) -> Result<String, String> {
        match disruption {
            Disruption::Faults { faults, duration } => {
                if let Err(reason) = faults.validate() {
                    self.announce(&begun, NoticePhase::Refused, Some(reason.clone()));
                    return Err(reason);
                }
                self.replace_faults(faults, &begun);
                tracing::info!(?faults, ?duration, "sandbox faults set");
                if let Some(duration) = duration {
                    self.clear_faults_later(begun.id, duration, tasks);
                }
                Ok(format!("set: {}", begun.description))
            }
            Disruption::Clear => {
                self.replace_faults(Faults::default(), &begun);
                Ok("faults cleared".to_owned())
            }
            Disruption::ListenerDown { duration } => {
                self.take_listener_down(&begun).await;
                if let Some(duration) = duration {
                    let shared = Arc::clone(self);
                    let real = self.clock.real(duration);
                    tasks.spawn(async move {
                        tokio::select! {
                            () = tokio::time::sleep(real) => {
                                shared.bring_listener_up(None).await;
                            }
                            () = shared.shutdown.cancelled() => {}
                        }
                    });
                }
                Ok("listener down".to_owned())
            }
            Disruption::ListenerUp => {
                self.announce(&begun, NoticePhase::Began, None);
                self.bring_listener_up(Some(&begun)).await;
                Ok("listener up".to_owned())
            }
            Disruption::Restart {
                keep_state,
                downtime,
            } => {
                tracing::info!(keep_state, ?downtime, "sandbox restarting");
                self.take_listener_down(&begun).await;
                if !keep_state {
                    self.store
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .clear();
                    self.state_lost.notify_one();
                }
                let real = self
                    .clock
                    .real(downtime.unwrap_or(DEFAULT_RESTART_DOWNTIME));
                tokio::select! {
                    () = tokio::time::sleep(real) => {}
                    () = self.shutdown.cancelled() => {
                        return Err("the sandbox shut down during the restart".to_owned());
                    }
                }
                let back_after = self.bring_listener_up(None).await;
                Ok(format!(
                    "restarted, back after {:.1} s",
                    back_after.unwrap_or_default().as_secs_f64()
                ))
            }
            Disruption::Drain => {
                self.set_node_state(proto::NodeState::ShuttingDown);
                let previous = self.lock_under_way().draining.replace(begun.clone());
                if let Some(previous) = previous {
                    let how = format!("superseded by #{}", begun.id);
                    self.announce(&previous, NoticePhase::Ended, Some(how));
                }
                self.announce(&begun, NoticePhase::Began, None);
                Ok("node draining (SHUTTING_DOWN)".to_owned())
            }
            Disruption::Serve => {
                self.set_node_state(proto::NodeState::Serving);
                self.announce(&begun, NoticePhase::Began, None);
                if let Some(drain) = self.lock_under_way().draining.take() {
                    let after = drain.at.elapsed();
                    let how = format!(
                        "serving again by #{} after {:.1} s",
                        begun.id,
                        after.as_secs_f64()
                    );
                    self.announce(&drain, NoticePhase::Ended, Some(how));
                }
                Ok("node serving (SERVING)".to_owned())
            }
        }
    }

    /// Sets the request faults; the ones they replace (if any) have ended.
    fn replace_faults(&self, faults: Faults, begun: &Begun) {
        let previous = {
            let mut under_way = self.lock_under_way();
            let previous = under_way.faults.take();
            if !faults.is_clear() {
                under_way.faults = Some(begun.clone());
            }
            previous
        };
        self.set_faults(faults, begun.id);
        if let Some(previous) = previous {
            let how = if faults.is_clear() {
                format!("cleared by #{}", begun.id)
            } else {
                format!("replaced by #{}", begun.id)
            };
            self.announce(&previous, NoticePhase::Ended, Some(how));
        }
        self.announce(begun, NoticePhase::Began, None);
    }

    /// Clears the faults `id` set after `duration` (simulated), unless others replaced them.
    fn clear_faults_later(self: &Arc<Self>, id: u64, duration: Duration, tasks: &TaskTracker) {
        let shared = Arc::clone(self);
        let real = self.clock.real(duration);
        tasks.spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(real) => {}
                () = shared.shutdown.cancelled() => return,
            }
            let ended = {
                let mut under_way = shared.lock_under_way();
                match &under_way.faults {
                    Some(begun) if begun.id == id => under_way.faults.take(),
                    _ => None,
                }
            };
            if let Some(begun) = ended {
                shared.clear_faults_of(id);
                let after = humantime::format_duration(duration);
                shared.announce(
                    &begun,
                    NoticePhase::Ended,
                    Some(format!("over after {after}")),
                );
            }
        });
    }

    async fn take_listener_down(&self, begun: &Begun) {
        self.want_listener(ListenerState::Down);
        self.listener_reached(ListenerState::Down).await;
        let replaced = self.lock_under_way().listener_down.replace(begun.clone());
        if let Some(previous) = replaced {
            let how = format!("superseded by #{}", begun.id);
            self.announce(&previous, NoticePhase::Ended, Some(how));
        }
        self.announce(begun, NoticePhase::Began, None);
    }

    /// Binds the listener again; the disruption that took it down has ended. Returns how long
    /// it was down, when a disruption took it down.
    async fn bring_listener_up(&self, by: Option<&Begun>) -> Option<Duration> {
        self.want_listener(ListenerState::Up);
        self.listener_reached(ListenerState::Up).await;
        let down = self.lock_under_way().listener_down.take()?;
        let after = down.at.elapsed();
        let how = match by {
            Some(begun) => format!(
                "listener up by #{} after {:.1} s",
                begun.id,
                after.as_secs_f64()
            ),
            None if down.description.starts_with("server restart") => {
                format!("restarted, back after {:.1} s", after.as_secs_f64())
            }
            None => format!("listener back up after {:.1} s", after.as_secs_f64()),
        };
        self.announce(&down, NoticePhase::Ended, Some(how));
        Some(after)
    }

    fn announce(&self, begun: &Begun, phase: NoticePhase, detail: Option<String>) {
        // Nobody listening is fine: notices are for whoever cares.
        let _ = self.notices.send(DisruptionNotice {
            id: begun.id,
            origin: begun.origin,
            name: begun.name.clone(),
            phase,
            description: begun.description.clone(),
            detail,
        });
    }

    fn lock_under_way(&self) -> std::sync::MutexGuard<'_, UnderWay> {
        self.under_way
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Disruption {
    /// What the disruption does, in a few words.
    #[must_use]
    pub(crate) fn describe(&self) -> String {
        let lasting = |duration: &Option<Duration>| {
            duration.map_or_else(String::new, |d| {
                format!(" for {}", humantime::format_duration(d))
            })
        };
        match self {
            Self::Faults { faults, duration } => {
                let mut parts = Vec::new();
                if faults.latency_ms > 0 || faults.jitter_ms > 0 {
                    let mut latency = format!("latency +{} ms", faults.latency_ms);
                    if faults.jitter_ms > 0 {
                        let _ = write!(latency, " (jitter {} ms)", faults.jitter_ms);
                    }
                    parts.push(latency);
                }
                for (rate, what) in [
                    (faults.error_rate, faults.error_code.as_str()),
                    (faults.hang_rate, "hang"),
                    (faults.drop_rate, "cut off"),
                ] {
                    if rate > 0.0 {
                        parts.push(format!("{:.0} % {what}", rate * 100.0));
                    }
                }
                for (rate, what) in [
                    (faults.webhook_drop_rate, "webhooks dropped"),
                    (faults.webhook_duplicate_rate, "webhooks sent twice"),
                ] {
                    if rate > 0.0 {
                        parts.push(format!("{:.0} % {what}", rate * 100.0));
                    }
                }
                if faults.webhook_delay_ms > 0 {
                    parts.push(format!("webhooks +{} ms", faults.webhook_delay_ms));
                }
                if faults.webhook_reorder {
                    parts.push("webhooks out of order".to_owned());
                }
                if faults.clock_offset_secs != 0 {
                    parts.push(format!("clock {:+} s", faults.clock_offset_secs));
                }
                if let Some(media) = faults.media_fault() {
                    parts.push(describe_media(&media));
                }
                if parts.is_empty() {
                    parts.push("no request faults".to_owned());
                }
                format!("{}{}", parts.join(", "), lasting(duration))
            }
            Self::Clear => "faults cleared".to_owned(),
            Self::ListenerDown { duration } => format!("listener down{}", lasting(duration)),
            Self::ListenerUp => "listener up".to_owned(),
            Self::Restart {
                keep_state,
                downtime,
            } => format!(
                "server restart, down {}, rooms {}",
                humantime::format_duration(downtime.unwrap_or(DEFAULT_RESTART_DOWNTIME)),
                if *keep_state { "kept" } else { "lost" }
            ),
            Self::Drain => "node draining".to_owned(),
            Self::Serve => "node serving".to_owned(),
        }
    }
}

/// "media: loss 8 %, RTT 250 ms, jitter 40 ms", naming only what the fault sets.
fn describe_media(media: &MediaFault) -> String {
    let parts: Vec<String> = [
        media.loss_pct.map(|loss| format!("loss {loss} %")),
        media.rtt_ms.map(|rtt| format!("RTT {rtt} ms")),
        media.jitter_ms.map(|jitter| format!("jitter {jitter} ms")),
    ]
    .into_iter()
    .flatten()
    .collect();
    format!("media: {}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;
    use crate::{Sandbox, SandboxOptions};

    async fn sandbox() -> Sandbox {
        Sandbox::start(SandboxOptions::new(
            "devkey",
            &SecretString::from("disruption-test-secret-0123456789"),
        ))
        .await
        .expect("the sandbox starts")
    }

    async fn next(
        notices: &mut tokio::sync::broadcast::Receiver<DisruptionNotice>,
    ) -> DisruptionNotice {
        tokio::time::timeout(Duration::from_secs(10), notices.recv())
            .await
            .expect("a notice within 10 s")
            .expect("the channel is open")
    }

    #[test]
    fn a_media_fault_says_what_it_sets() {
        let media = |loss_pct, rtt_ms, jitter_ms| Disruption::Faults {
            faults: Faults {
                media: Some(MediaFault {
                    loss_pct,
                    rtt_ms,
                    jitter_ms,
                }),
                ..Faults::default()
            },
            duration: None,
        };
        assert_eq!(
            media(Some(8.0), Some(250.0), Some(40.0)).describe(),
            "media: loss 8 %, RTT 250 ms, jitter 40 ms"
        );
        assert_eq!(media(Some(0.5), None, None).describe(), "media: loss 0.5 %");
        assert_eq!(media(None, None, None).describe(), "no request faults");
        let Disruption::Faults { faults, .. } = media(None, None, None) else {
            unreachable!()
        };
        assert!(faults.is_clear(), "a media fault that sets nothing is none");
        let Disruption::Faults { faults, .. } = media(None, Some(1.0), None) else {
            unreachable!()
        };
        assert!(!faults.is_clear());
    }

    #[tokio::test]
    async fn drain_and_serve_change_the_node_state_and_pair_their_notices() {
        let sandbox = sandbox().await;
        let mut notices = sandbox.subscribe_disruptions();
        assert_eq!(sandbox.node_state(), proto::NodeState::Serving);
        sandbox.drain().await;
        assert_eq!(sandbox.node_state(), proto::NodeState::ShuttingDown);
        let drained = next(&mut notices).await;
        assert_eq!(
            (drained.phase, drained.description.as_str()),
            (NoticePhase::Began, "node draining")
        );
        sandbox.serve().await;
        assert_eq!(sandbox.node_state(), proto::NodeState::Serving);
        let served = next(&mut notices).await;
        assert_eq!(served.description, "node serving");
        let ended = next(&mut notices).await;
        assert_eq!((ended.id, ended.phase), (drained.id, NoticePhase::Ended));
        sandbox.shutdown().await;
    }

    #[tokio::test]
    async fn a_restart_whose_caller_gave_up_still_brings_the_listener_back() {
        let sandbox = sandbox().await;
        let mut notices = sandbox.subscribe_disruptions();
        let restart = Disruption::Restart {
            keep_state: true,
            downtime: Some(Duration::from_millis(300)),
        };
        // The caller waits 50 ms, while the listener is down, and goes away.
        let gave_up =
            tokio::time::timeout(Duration::from_millis(50), sandbox.disrupt(restart)).await;
        assert!(
            gave_up.is_err(),
            "the restart takes longer than the caller waits"
        );
        let began = next(&mut notices).await;
        assert_eq!(
            (began.phase, began.origin),
            (NoticePhase::Began, DisruptionOrigin::Admin)
        );
        assert_eq!(began.description, "server restart, down 300ms, rooms kept");
        let ended = next(&mut notices).await;
        assert_eq!((ended.id, ended.phase), (began.id, NoticePhase::Ended));
        let detail = ended.detail.unwrap();
        assert!(detail.starts_with("restarted, back after"), "{detail}");
        assert!(
            tokio::net::TcpStream::connect(sandbox.addr()).await.is_ok(),
            "the listener is up again"
        );
        sandbox.shutdown().await;
    }

    #[tokio::test]
    async fn timed_faults_end_by_themselves_and_replaced_ones_say_by_what() {
        let sandbox = sandbox().await;
        let mut notices = sandbox.subscribe_disruptions();
        let spike = Disruption::Faults {
            faults: Faults {
                latency_ms: 300,
                jitter_ms: 200,
                ..Faults::default()
            },
            duration: Some(Duration::from_millis(200)),
        };
        let (first, done) = sandbox
            .control()
            .begin_disruption(spike, DisruptionOrigin::Interactive);
        assert_eq!(
            done.await.unwrap().unwrap(),
            "set: latency +300 ms (jitter 200 ms) for 200ms"
        );
        let began = next(&mut notices).await;
        assert_eq!(
            (began.id, began.origin),
            (first, DisruptionOrigin::Interactive)
        );
        let ended = next(&mut notices).await;
        assert_eq!((ended.id, ended.phase), (first, NoticePhase::Ended));
        assert_eq!(ended.detail.as_deref(), Some("over after 200ms"));
        assert!(sandbox.faults().is_clear());

        let errors = Disruption::Faults {
            faults: Faults {
                error_rate: 0.5,
                ..Faults::default()
            },
            duration: None,
        };
        let (second, done) = sandbox
            .control()
            .begin_disruption(errors, DisruptionOrigin::Interactive);
        done.await.unwrap().unwrap();
        assert_eq!(next(&mut notices).await.description, "50 % unavailable");
        let (third, done) = sandbox
            .control()
            .begin_disruption(Disruption::Clear, DisruptionOrigin::Interactive);
        done.await.unwrap().unwrap();
        let ended = next(&mut notices).await;
        assert_eq!((ended.id, ended.phase), (second, NoticePhase::Ended));
        assert_eq!(ended.detail, Some(format!("cleared by #{third}")));
        let cleared = next(&mut notices).await;
        assert_eq!((cleared.id, cleared.phase), (third, NoticePhase::Began));
        assert_eq!(cleared.description, "faults cleared");

        let bad = Disruption::Faults {
            faults: Faults {
                error_rate: 2.0,
                ..Faults::default()
            },
            duration: None,
        };
        let (_, done) = sandbox
            .control()
            .begin_disruption(bad, DisruptionOrigin::Interactive);
        assert!(done.await.unwrap().is_err());
        let refused = next(&mut notices).await;
        assert_eq!(refused.phase, NoticePhase::Refused);
        sandbox.shutdown().await;
    }
}
