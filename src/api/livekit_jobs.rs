//! [`JobsApi`] against a real server: lktop's own Twirp calls, with the server's reused tokens
//! for the listings the engine repeats (`roomRecord`, `ingressAdmin`, a room's `roomAdmin`).

use livekit_api::access_token::VideoGrants;
use livekit_protocol as proto;

use super::error::ApiError;
use super::jobs_api::{EgressQuery, JobsApi, NewDispatch};
use super::livekit::{LiveKitRoomApi, room_admin};
use super::tokens::TokenScope;
use super::twirp::{Grants, Service};

/// A listing longer than this many pages is cut there: at the server's page size it is far
/// more jobs than a screen can show, and a server that keeps answering with a next page
/// token must not hold the engine forever.
const MAX_PAGES: usize = 20;

impl JobsApi for LiveKitRoomApi {
    async fn list_egress(&self, query: EgressQuery) -> Result<Vec<proto::EgressInfo>, ApiError> {
        const METHOD: &str = "ListEgress";
        let mut request = match query {
            EgressQuery::Active => proto::ListEgressRequest {
                active: true,
                ..Default::default()
            },
            EgressQuery::Room(room) => proto::ListEgressRequest {
                room_name: room,
                ..Default::default()
            },
            EgressQuery::Id(id) => proto::ListEgressRequest {
                egress_id: id,
                ..Default::default()
            },
        };
        let mut items = Vec::new();
        for _ in 0..MAX_PAGES {
            let page: proto::ListEgressResponse = self
                .bounded(
                    METHOD,
                    Box::pin(self.twirp.call(
                        Service::Egress,
                        METHOD,
                        Grants::Reused(TokenScope::Recording),
                        &request,
                    )),
                )
                .await??;
            items.extend(page.items);
            match page.next_page_token {
                Some(next) if !next.token.is_empty() => request.page_token = Some(next),
                _ => break,
            }
        }
        Ok(items)
    }

    async fn stop_egress(&self, egress_id: &str) -> Result<proto::EgressInfo, ApiError> {
        const METHOD: &str = "StopEgress";
        let request = proto::StopEgressRequest {
            egress_id: egress_id.to_owned(),
        };
        let grants = VideoGrants {
            room_record: true,
            ..VideoGrants::default()
        };
        self.bounded(
            METHOD,
            Box::pin(
                self.twirp
                    .call(Service::Egress, METHOD, Grants::Once(grants), &request),
            ),
        )
        .await?
    }

    async fn list_ingress(&self, room: Option<&str>) -> Result<Vec<proto::IngressInfo>, ApiError> {
        const METHOD: &str = "ListIngress";
        let mut request = proto::ListIngressRequest {
            room_name: room.unwrap_or_default().to_owned(),
            ..Default::default()
        };
        let mut items = Vec::new();
        for _ in 0..MAX_PAGES {
            let page: proto::ListIngressResponse = self
                .bounded(
                    METHOD,
                    Box::pin(self.twirp.call(
                        Service::Ingress,
                        METHOD,
                        Grants::Reused(TokenScope::IngressAdmin),
                        &request,
                    )),
                )
                .await??;
            items.extend(page.items);
            match page.next_page_token {
                Some(next) if !next.token.is_empty() => request.page_token = Some(next),
                _ => break,
            }
        }
        Ok(items)
    }

    async fn list_dispatch(&self, room: &str) -> Result<Vec<proto::AgentDispatch>, ApiError> {
        const METHOD: &str = "ListDispatch";
        let request = proto::ListAgentDispatchRequest {
            room: room.to_owned(),
            ..Default::default()
        };
        let response: proto::ListAgentDispatchResponse = self
            .bounded(
                METHOD,
                Box::pin(self.twirp.call(
                    Service::AgentDispatch,
                    METHOD,
                    Grants::Reused(TokenScope::RoomAdmin(room.to_owned())),
                    &request,
                )),
            )
            .await??;
        Ok(response.agent_dispatches)
    }

    async fn create_dispatch(
        &self,
        dispatch: NewDispatch,
    ) -> Result<proto::AgentDispatch, ApiError> {
        const METHOD: &str = "CreateDispatch";
        let grants = room_admin(&dispatch.room);
        let request = proto::CreateAgentDispatchRequest {
            agent_name: dispatch.agent_name,
            room: dispatch.room,
            metadata: dispatch.metadata,
            ..Default::default()
        };
        self.bounded(
            METHOD,
            Box::pin(self.twirp.call(
                Service::AgentDispatch,
                METHOD,
                Grants::Once(grants),
                &request,
            )),
        )
        .await?
    }

    async fn delete_dispatch(
        &self,
        room: &str,
        dispatch_id: &str,
    ) -> Result<proto::AgentDispatch, ApiError> {
        const METHOD: &str = "DeleteDispatch";
        let request = proto::DeleteAgentDispatchRequest {
            dispatch_id: dispatch_id.to_owned(),
            room: room.to_owned(),
        };
        self.bounded(
            METHOD,
            Box::pin(self.twirp.call(
                Service::AgentDispatch,
                METHOD,
                Grants::Once(room_admin(room)),
                &request,
            )),
        )
        .await?
    }
}
