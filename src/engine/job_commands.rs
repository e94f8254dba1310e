//! The commands on what rooms hand to other services: stopping an egress job, sending an
//! agent into a room, calling a dispatch off. Each wakes the server's jobs watcher, so the
//! change is read back at once rather than at the next interval.

use super::commands::CommandRunner;
use crate::api::{JobsApi, NewDispatch};
use crate::events::Command;
use crate::jobs::EgressSummary;

impl CommandRunner {
    /// # Errors
    /// The server's refusal or failure, in its words.
    pub(super) async fn run_job_command(&self, command: &Command) -> Result<String, String> {
        match command {
            Command::StopEgress { server, egress_id } => {
                let (api, _) = self.server(server)?;
                let info = api
                    .stop_egress(egress_id)
                    .await
                    .map_err(|err| err.to_string())?;
                self.refresh_jobs(server);
                let job = EgressSummary::from_proto(&info);
                Ok(format!(
                    "egress {egress_id} of {} stopping (now {})",
                    job.room,
                    job.status.label()
                ))
            }
            Command::CreateDispatch {
                server,
                room,
                agent_name,
                metadata,
            } => {
                if agent_name.trim().is_empty() {
                    return Err("no agent name: give the name the agent registered with".into());
                }
                let (api, _) = self.server(server)?;
                let dispatch = api
                    .create_dispatch(NewDispatch {
                        room: room.clone(),
                        agent_name: agent_name.clone(),
                        metadata: metadata.clone(),
                    })
                    .await
                    .map_err(|err| err.to_string())?;
                self.refresh_jobs(server);
                Ok(format!(
                    "agent {agent_name} dispatched to {room} (dispatch {})",
                    dispatch.id
                ))
            }
            Command::DeleteDispatch {
                server,
                room,
                dispatch_id,
            } => {
                let (api, _) = self.server(server)?;
                let dispatch = api
                    .delete_dispatch(room, dispatch_id)
                    .await
                    .map_err(|err| err.to_string())?;
                self.refresh_jobs(server);
                Ok(format!(
                    "dispatch {dispatch_id} of agent {} deleted from {room}",
                    dispatch.agent_name
                ))
            }
            other => Err(format!("not a job command: {other:?}")),
        }
    }

    fn refresh_jobs(&self, server: &str) {
        if let Some(refresh) = self.jobs_refresh.get(server) {
            refresh.notify_one();
        }
    }
}
