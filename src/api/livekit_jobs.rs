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

impl LiveKitRoomApi {
    /// A listing page by page: `items` splits an answer into its items and the next page's
    /// token, `next` puts that token into the request; at most [`MAX_PAGES`] pages.
    async fn paged<Req, Resp, Item>(
        &self,
        service: Service,
        method: &'static str,
        scope: TokenScope,
        mut request: Req,
        items: impl Fn(Resp) -> (Vec<Item>, Option<proto::TokenPagination>),
        next: impl Fn(&mut Req, proto::TokenPagination),
    ) -> Result<Vec<Item>, ApiError>
    where
        Req: prost::Message + Send + Sync,
        Resp: prost::Message + Default,
    {
        let mut listed = Vec::new();
        for _ in 0..MAX_PAGES {
            let page: Resp = self
                .bounded(
                    method,
                    Box::pin(self.twirp.call(
                        service,
                        method,
                        Grants::Reused(scope.clone()),
                        &request,
                    )),
                )
                .await??;
            let (page_items, token) = items(page);
            listed.extend(page_items);
            match token {
                Some(token) if !token.token.is_empty() => next(&mut request, token),
                _ => break,
            }
        }
        Ok(listed)
    }
}

impl JobsApi for LiveKitRoomApi {
    async fn list_egress(&self, query: EgressQuery) -> Result<Vec<proto::EgressInfo>, ApiError> {
        const METHOD: &str = "ListEgress";
        let request = match query {
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
        self.paged(
            Service::Egress,
            METHOD,
            TokenScope::Recording,
            request,
            |page: proto::ListEgressResponse| (page.items, page.next_page_token),
            |request, token| request.page_token = Some(token),
        )
        .await
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
        let request = proto::ListIngressRequest {
            room_name: room.unwrap_or_default().to_owned(),
            ..Default::default()
        };
        self.paged(
            Service::Ingress,
            METHOD,
            TokenScope::IngressAdmin,
            request,
            |page: proto::ListIngressResponse| (page.items, page.next_page_token),
            |request, token| request.page_token = Some(token),
        )
        .await
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
