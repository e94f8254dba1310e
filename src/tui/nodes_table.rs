//! The Nodes screen's state: how the nodes of every server are sorted and filtered, the
//! selection, and the node open in the detail. The rows are built from the servers on screen
//! (the live data or the frozen copy) whenever they are needed: a cluster has tens of nodes.

use std::cmp::Ordering;

use super::cursor::Cursor;
use super::nodes_view::cpu;
use super::server_view::ServerView;
use super::text_filter::TextFilter;
use crate::nodes::{NodeHealth, SourceState};

/// What the Nodes table is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NodeSort {
    /// The server, then the node id.
    #[default]
    Server,
    Cpu,
    Participants,
    Rooms,
    BitrateIn,
    BitrateOut,
    Loss,
    Rtt,
    Jitter,
    Quality,
    JoinFailures,
}

impl NodeSort {
    const ORDER: [Self; 11] = [
        Self::Server,
        Self::Cpu,
        Self::Participants,
        Self::Rooms,
        Self::BitrateIn,
        Self::BitrateOut,
        Self::Loss,
        Self::Rtt,
        Self::Jitter,
        Self::Quality,
        Self::JoinFailures,
    ];

    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Server => "server, node",
            Self::Cpu => "CPU",
            Self::Participants => "participants",
            Self::Rooms => "rooms",
            Self::BitrateIn => "bitrate in",
            Self::BitrateOut => "bitrate out",
            Self::Loss => "loss",
            Self::Rtt => "RTT p95",
            Self::Jitter => "jitter p95",
            Self::Quality => "quality",
            Self::JoinFailures => "join failures",
        }
    }

    fn next(self) -> Self {
        let at = Self::ORDER.iter().position(|s| *s == self).unwrap_or(0);
        Self::ORDER[(at + 1) % Self::ORDER.len()]
    }

    /// The direction that puts what needs a look first: names A to Z, the lowest quality, the
    /// highest of every other figure.
    #[must_use]
    pub fn default_descending(self) -> bool {
        !matches!(self, Self::Server | Self::Quality)
    }

    #[expect(
        clippy::cast_precision_loss,
        reason = "counts of rooms and participants fit an f64"
    )]
    fn figure(self, node: &NodeHealth) -> Option<f64> {
        match self {
            Self::Server => None,
            Self::Cpu => cpu(node).map(|(pct, _)| pct),
            Self::Participants => node.participants.map(|n| n as f64),
            Self::Rooms => node.rooms.map(|n| n as f64),
            Self::BitrateIn => node.bytes_in_per_s,
            Self::BitrateOut => node.bytes_out_per_s,
            Self::Loss => node.packet_loss_pct,
            Self::Rtt => node.rtt_p95_ms,
            Self::Jitter => node.jitter_p95_ms,
            Self::Quality => node.quality_score_p50,
            Self::JoinFailures => node.join_failures_per_s,
        }
    }
}

/// A node by what names it across readings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeKey {
    pub server: String,
    pub node_id: String,
}

/// Why a server shows a line instead of (or above) its nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notice {
    /// Neither `metrics_url` nor `redis_url` is set.
    NotConfigured,
    /// Sources are configured and no reading has come yet.
    Waiting,
    /// The source at this index of the server's `sources` is not up.
    SourceDown(usize),
}

/// One row of the Nodes table.
#[derive(Debug, Clone, Copy)]
pub(crate) enum NodeRow<'a> {
    Node {
        server: &'a ServerView,
        node: &'a NodeHealth,
    },
    Notice {
        server: &'a ServerView,
        notice: Notice,
    },
}

impl NodeRow<'_> {
    #[must_use]
    pub(crate) fn key(&self) -> Option<NodeKey> {
        match self {
            Self::Node { server, node } => Some(NodeKey {
                server: server.name.clone(),
                node_id: node.node_id.clone(),
            }),
            Self::Notice { .. } => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NodesTable {
    pub sort: NodeSort,
    pub descending: bool,
    /// Keeps the nodes whose server, id, region or state contains it.
    pub filter: TextFilter,
    pub(crate) cursor: Cursor,
    /// The node open in the detail screen.
    pub detail: Option<NodeKey>,
}

impl Default for NodesTable {
    fn default() -> Self {
        Self {
            sort: NodeSort::default(),
            descending: NodeSort::default().default_descending(),
            filter: TextFilter::default(),
            cursor: Cursor::default(),
            detail: None,
        }
    }
}

impl NodesTable {
    /// The rows in table order. Sorted by server, each server's lines come before its nodes;
    /// sorted by a figure, the nodes come first (unknown figures last) and the lines after.
    #[must_use]
    pub(crate) fn rows<'a>(&self, servers: &'a [ServerView]) -> Vec<NodeRow<'a>> {
        let mut by_server: Vec<&ServerView> = servers
            .iter()
            .filter(|server| self.filter.matches([server.name.as_str()]) || self.any_node(server))
            .collect();
        by_server.sort_by(|a, b| a.name.cmp(&b.name));
        if self.sort == NodeSort::Server && self.descending {
            by_server.reverse();
        }
        let notices = |server: &'a ServerView| {
            notices(server)
                .into_iter()
                .filter(|_| self.filter.matches([server.name.as_str()]))
                .map(move |notice| NodeRow::Notice { server, notice })
        };
        let nodes = |server: &'a ServerView| {
            server
                .nodes
                .nodes
                .iter()
                .filter(|node| self.keeps(server, node))
                .map(move |node| NodeRow::Node { server, node })
        };
        if self.sort == NodeSort::Server {
            let mut rows = Vec::new();
            for server in by_server {
                rows.extend(notices(server));
                let mut own: Vec<NodeRow<'a>> = nodes(server).collect();
                own.sort_by(|a, b| self.compare(a, b));
                rows.extend(own);
            }
            return rows;
        }
        let mut rows: Vec<NodeRow<'a>> = by_server.iter().flat_map(|s| nodes(s)).collect();
        rows.sort_by(|a, b| self.compare(a, b));
        rows.extend(by_server.into_iter().flat_map(notices));
        rows
    }

    fn any_node(&self, server: &ServerView) -> bool {
        server
            .nodes
            .nodes
            .iter()
            .any(|node| self.keeps(server, node))
    }

    fn keeps(&self, server: &ServerView, node: &NodeHealth) -> bool {
        self.filter.matches(
            [
                server.name.as_str(),
                node.node_id.as_str(),
                node.region.as_deref().unwrap_or_default(),
                node.state.as_deref().unwrap_or_default(),
            ]
            .into_iter()
            .chain(node.is_draining().then_some("draining"))
            .chain(node.stale.then_some("stale")),
        )
    }

    /// Two node rows in table order.
    fn compare(&self, a: &NodeRow<'_>, b: &NodeRow<'_>) -> Ordering {
        let (
            NodeRow::Node {
                server: server_a,
                node: a,
            },
            NodeRow::Node {
                server: server_b,
                node: b,
            },
        ) = (a, b)
        else {
            return Ordering::Equal;
        };
        let by_name = server_a
            .name
            .cmp(&server_b.name)
            .then_with(|| a.node_id.cmp(&b.node_id));
        let directed = |order: Ordering| {
            if self.descending {
                order.reverse()
            } else {
                order
            }
        };
        match (self.sort.figure(a), self.sort.figure(b)) {
            (Some(x), Some(y)) => directed(x.total_cmp(&y)).then(by_name),
            // An unknown figure is not the lowest (nor the highest): it goes last either way.
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) if self.sort == NodeSort::Server => directed(by_name),
            (None, None) => by_name,
        }
    }

    /// The node under the cursor, if the row there is a node.
    #[must_use]
    pub(crate) fn selected(&self, servers: &[ServerView]) -> Option<NodeKey> {
        self.rows(servers)
            .get(self.cursor.selected)
            .and_then(NodeRow::key)
    }

    pub(crate) fn next_sort(&mut self) {
        self.sort = self.sort.next();
        self.descending = self.sort.default_descending();
        self.cursor = Cursor::default();
    }

    pub(crate) fn reverse(&mut self) {
        self.descending = !self.descending;
        self.cursor = Cursor::default();
    }
}

/// The lines a server shows about its node sources: not configured, no reading yet, or each
/// source that is not up.
fn notices(server: &ServerView) -> Vec<Notice> {
    let view = &server.nodes;
    if view.configured.is_empty() {
        return vec![Notice::NotConfigured];
    }
    if view.read_at_ms == 0 {
        return vec![Notice::Waiting];
    }
    view.sources
        .iter()
        .enumerate()
        .filter(|(_, source)| source.state != SourceState::Up)
        .map(|(index, _)| Notice::SourceDown(index))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nodes::{NodeSource, SourceStatus};

    fn node(id: &str, loss: Option<f64>) -> NodeHealth {
        NodeHealth {
            node_id: id.to_owned(),
            packet_loss_pct: loss,
            ..NodeHealth::default()
        }
    }

    fn servers() -> Vec<ServerView> {
        let mut eu = ServerView::new("eu".to_owned());
        eu.nodes.configured = vec![NodeSource::Metrics];
        eu.nodes.absorb_reading(
            vec![node("b", Some(1.0)), node("a", None), node("c", Some(7.0))],
            vec![SourceStatus {
                source: NodeSource::Metrics,
                target: "http://eu:6789/metrics".to_owned(),
                state: SourceState::Down,
                error: Some("connection refused".to_owned()),
                took_ms: None,
            }],
            1,
        );
        let bare = ServerView::new("ap".to_owned());
        vec![eu, bare]
    }

    fn names(table: &NodesTable, servers: &[ServerView]) -> Vec<String> {
        table
            .rows(servers)
            .iter()
            .map(|row| match row {
                NodeRow::Node { server, node } => format!("{}/{}", server.name, node.node_id),
                NodeRow::Notice { server, notice } => format!("{}:{notice:?}", server.name),
            })
            .collect()
    }

    #[test]
    fn by_server_then_node_with_each_servers_lines_first() {
        let servers = servers();
        let mut table = NodesTable::default();
        assert_eq!(
            names(&table, &servers),
            [
                "ap:NotConfigured",
                "eu:SourceDown(0)",
                "eu/a",
                "eu/b",
                "eu/c"
            ]
        );
        table.reverse();
        assert_eq!(
            names(&table, &servers),
            [
                "eu:SourceDown(0)",
                "eu/c",
                "eu/b",
                "eu/a",
                "ap:NotConfigured"
            ]
        );
    }

    #[test]
    fn by_a_figure_worst_first_unknown_last_and_lines_after() {
        let servers = servers();
        let mut table = NodesTable::default();
        while table.sort != NodeSort::Loss {
            table.next_sort();
        }
        assert!(table.descending);
        assert_eq!(
            names(&table, &servers),
            [
                "eu/c",
                "eu/b",
                "eu/a",
                "ap:NotConfigured",
                "eu:SourceDown(0)"
            ]
        );
        table.reverse();
        assert_eq!(names(&table, &servers)[..3], ["eu/b", "eu/c", "eu/a"]);
        table.filter.text = "C".to_owned();
        assert_eq!(names(&table, &servers), ["eu/c"]);
        table.cursor.selected = 0;
        assert_eq!(
            table.selected(&servers).map(|key| key.node_id),
            Some("c".to_owned())
        );
    }
}
