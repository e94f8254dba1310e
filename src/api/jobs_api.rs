//! The calls lktop makes to the services a room hands work to: Egress (recordings and
//! streams), Ingress (streams brought in) and Agent Dispatch (agents sent into rooms).
//!
//! Apart from [`RoomApi`](super::RoomApi) because the pool's health checks and the poller need
//! only rooms, and the fakes that drive them in tests need not answer for these services.

use std::future::Future;

use super::error::ApiError;
use livekit_protocol as proto;

/// Which egress jobs to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EgressQuery {
    /// Every job still running, of every room: one call however many rooms there are.
    Active,
    /// Every job of one room the server still knows, ended ones included.
    Room(String),
    /// One job by id, whatever its state: how an active job lktop saw is followed to its end.
    Id(String),
}

/// A dispatch to create: `agent_name` as the agent registered itself, `metadata` handed to
/// the agent's job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDispatch {
    pub room: String,
    pub agent_name: String,
    pub metadata: String,
}

pub trait JobsApi: Send + Sync + 'static {
    /// Grant `roomRecord`.
    fn list_egress(
        &self,
        query: EgressQuery,
    ) -> impl Future<Output = Result<Vec<proto::EgressInfo>, ApiError>> + Send;

    /// Grant `roomRecord`.
    fn stop_egress(
        &self,
        egress_id: &str,
    ) -> impl Future<Output = Result<proto::EgressInfo, ApiError>> + Send;

    /// Every ingress, or those of one room. Grant `ingressAdmin`.
    fn list_ingress(
        &self,
        room: Option<&str>,
    ) -> impl Future<Output = Result<Vec<proto::IngressInfo>, ApiError>> + Send;

    /// Grant `roomAdmin` of the room.
    fn list_dispatch(
        &self,
        room: &str,
    ) -> impl Future<Output = Result<Vec<proto::AgentDispatch>, ApiError>> + Send;

    /// Grant `roomAdmin` of the room.
    fn create_dispatch(
        &self,
        dispatch: NewDispatch,
    ) -> impl Future<Output = Result<proto::AgentDispatch, ApiError>> + Send;

    /// Grant `roomAdmin` of the room.
    fn delete_dispatch(
        &self,
        room: &str,
        dispatch_id: &str,
    ) -> impl Future<Output = Result<proto::AgentDispatch, ApiError>> + Send;
}
