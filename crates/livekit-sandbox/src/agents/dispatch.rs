//! A dispatch from creation to deletion, and its agent joining the room.

use std::collections::HashMap;

use livekit_protocol as proto;

use super::{AGENT_JOIN_MS, DispatchRecord};
use crate::rooms::{Joining, RoomStore, TrackSpec};
use crate::twirp_error::{TwirpCode, TwirpError};

fn nanos(ms: i64) -> i64 {
    ms.saturating_mul(1_000_000)
}

impl RoomStore {
    /// CreateDispatch: the room is created if needed (livekit-server's `auto_create`); the
    /// agent joins [`AGENT_JOIN_MS`] later.
    ///
    /// # Errors
    /// `invalid_argument` for an empty or too long room name.
    pub(crate) fn create_dispatch(
        &mut self,
        request: &proto::CreateAgentDispatchRequest,
        now_ms: i64,
    ) -> Result<proto::AgentDispatch, TwirpError> {
        self.create_room(
            &proto::CreateRoomRequest {
                name: request.room.clone(),
                ..proto::CreateRoomRequest::default()
            },
            now_ms,
        )?;
        let dispatch = proto::AgentDispatch {
            id: self.sid("AD"),
            agent_name: request.agent_name.clone(),
            room: request.room.clone(),
            metadata: request.metadata.clone(),
            state: Some(proto::AgentDispatchState {
                jobs: Vec::new(),
                created_at: nanos(now_ms),
                deleted_at: 0,
            }),
            restart_policy: request.restart_policy,
            deployment: request.deployment.clone(),
            attributes: request.attributes.clone(),
        };
        self.dispatches.records.push(DispatchRecord {
            dispatch: dispatch.clone(),
            join_at_ms: Some(now_ms + AGENT_JOIN_MS),
        });
        Ok(dispatch)
    }

    /// ListDispatch: the room's dispatches, or the one named.
    ///
    /// # Errors
    /// `not_found` for a missing room.
    pub(crate) fn list_dispatch(
        &self,
        request: &proto::ListAgentDispatchRequest,
    ) -> Result<Vec<proto::AgentDispatch>, TwirpError> {
        self.room_view(&request.room)?;
        Ok(self
            .dispatches
            .records
            .iter()
            .map(|record| &record.dispatch)
            .filter(|d| d.room == request.room)
            .filter(|d| request.dispatch_id.is_empty() || d.id == request.dispatch_id)
            .cloned()
            .collect())
    }

    /// DeleteDispatch: its jobs end and their agents leave.
    ///
    /// # Errors
    /// `not_found` for a missing room, or "dispatch ID not found" (livekit-server's
    /// `Room.DeleteAgentDispatch`).
    pub(crate) fn delete_dispatch(
        &mut self,
        request: &proto::DeleteAgentDispatchRequest,
        now_ms: i64,
    ) -> Result<proto::AgentDispatch, TwirpError> {
        self.room_view(&request.room)?;
        let index = self
            .dispatches
            .records
            .iter()
            .position(|r| r.dispatch.room == request.room && r.dispatch.id == request.dispatch_id)
            .ok_or_else(|| TwirpError::new(TwirpCode::NotFound, "dispatch ID not found"))?;
        let mut dispatch = self.dispatches.records.remove(index).dispatch;
        if let Some(state) = &mut dispatch.state {
            state.deleted_at = nanos(now_ms);
            for job in &mut state.jobs {
                let Some(job_state) = &mut job.state else {
                    continue;
                };
                if job_state.status == proto::JobStatus::JsRunning as i32 {
                    job_state.status = proto::JobStatus::JsSuccess as i32;
                    job_state.ended_at = nanos(now_ms);
                    job_state.updated_at = nanos(now_ms);
                    let _gone = self.remove_participant(
                        &request.room,
                        &job_state.participant_identity,
                        proto::DisconnectReason::ClientInitiated,
                        now_ms,
                    );
                }
            }
        }
        Ok(dispatch)
    }

    /// Agents whose time came join their rooms; a job whose agent was removed from the room
    /// has ended.
    pub(crate) fn advance_dispatches(&mut self, now_ms: i64) {
        for index in 0..self.dispatches.records.len() {
            let record = &self.dispatches.records[index];
            if record.join_at_ms.is_some_and(|at| now_ms >= at) {
                self.assign_job(index, now_ms);
                continue;
            }
            let room = record.dispatch.room.clone();
            let gone: Vec<usize> = record
                .dispatch
                .state
                .iter()
                .flat_map(|state| state.jobs.iter().enumerate())
                .filter(|(_, job)| {
                    job.state.as_ref().is_some_and(|s| {
                        s.status == proto::JobStatus::JsRunning as i32
                            && self
                                .get_participant(&room, &s.participant_identity)
                                .is_err()
                    })
                })
                .map(|(job, _)| job)
                .collect();
            let record = &mut self.dispatches.records[index];
            for job in gone {
                if let Some(job_state) = record
                    .dispatch
                    .state
                    .as_mut()
                    .and_then(|state| state.jobs[job].state.as_mut())
                {
                    job_state.status = proto::JobStatus::JsSuccess as i32;
                    job_state.ended_at = nanos(now_ms);
                    job_state.updated_at = nanos(now_ms);
                }
            }
        }
    }

    /// A worker takes the dispatch's job: the agent joins and publishes its voice.
    fn assign_job(&mut self, index: usize, now_ms: i64) {
        let dispatch = self.dispatches.records[index].dispatch.clone();
        let job_id = self.sid("AJ");
        let worker_id = self.sid("AW");
        let identity = format!("agent-{job_id}");
        let name = if dispatch.agent_name.is_empty() {
            "agent".to_owned()
        } else {
            dispatch.agent_name.clone()
        };
        // What the agents framework announces about itself.
        let attributes = HashMap::from([
            ("lk.agent.state".to_owned(), "listening".to_owned()),
            ("lk.agent.name".to_owned(), name.clone()),
        ]);
        let joining = Joining {
            identity: identity.clone(),
            name,
            kind: proto::participant_info::Kind::Agent,
            metadata: String::new(),
            attributes,
        };
        let joined = self.join_as(&dispatch.room, joining, now_ms).and_then(|_| {
            self.publish(
                &dispatch.room,
                &identity,
                &TrackSpec {
                    name: "agent-voice".to_owned(),
                    ..TrackSpec::microphone()
                },
            )
        });
        let (status, error) = match joined {
            Ok(_) => (proto::JobStatus::JsRunning, String::new()),
            Err(err) => (proto::JobStatus::JsFailed, err.msg),
        };
        let room = self.room_view(&dispatch.room).ok();
        let job = proto::Job {
            id: job_id,
            dispatch_id: dispatch.id.clone(),
            r#type: proto::JobType::JtRoom as i32,
            room,
            metadata: dispatch.metadata.clone(),
            agent_name: dispatch.agent_name.clone(),
            state: Some(proto::JobState {
                status: status as i32,
                error,
                started_at: nanos(now_ms),
                updated_at: nanos(now_ms),
                participant_identity: identity,
                worker_id,
                ..proto::JobState::default()
            }),
            ..proto::Job::default()
        };
        let record = &mut self.dispatches.records[index];
        record.join_at_ms = None;
        if let Some(state) = &mut record.dispatch.state {
            state.jobs.push(job);
        }
    }
}
