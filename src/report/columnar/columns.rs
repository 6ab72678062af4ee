//! Column kinds the tables share: the flow key every row carries, a
//! connection's endpoints, timestamps and lists of text.

use std::net::SocketAddr;
use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_array::builder::{
    Int32Builder, Int64Builder, ListBuilder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_schema::{DataType, Field, TimeUnit};

use crate::capture::Timestamp;
use crate::trace::{FlowRecord, FlowUid};

/// What the rows of one flow's records share: its id, uid, input file
/// and endpoints (known from its `flow` record, which comes first).
#[derive(Clone, Debug, Default)]
pub(super) struct FlowContext {
    pub id: Option<u64>,
    pub uid: Option<FlowUid>,
    pub file: Option<Arc<str>>,
    pub client: Option<SocketAddr>,
    pub server: Option<SocketAddr>,
}

impl FlowContext {
    pub fn of(flow: &FlowRecord, file: Option<Arc<str>>) -> Self {
        FlowContext {
            id: Some(flow.id),
            uid: Some(flow.flow_uid),
            file,
            client: Some(flow.client),
            server: Some(flow.server),
        }
    }
}

/// The type of every timestamp column: microseconds since the epoch, UTC.
pub(super) fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

pub(super) fn timestamp_field(name: &str, nullable: bool) -> Field {
    Field::new(name, timestamp_type(), nullable)
}

pub(super) fn timestamp_builder() -> TimestampMicrosecondBuilder {
    TimestampMicrosecondBuilder::new().with_timezone("UTC")
}

/// Microseconds, rounded down (as the JSON's seconds are, at this scale).
pub(super) fn micros(ts: Timestamp) -> i64 {
    ts.as_nanos().div_euclid(1000)
}

/// A list of text; `nullable` is whether the list itself may be null.
pub(super) fn text_list_field(name: &str, nullable: bool) -> Field {
    Field::new_list(name, Field::new_list_field(DataType::Utf8, true), nullable)
}

pub(super) type TextList = ListBuilder<StringBuilder>;

pub(super) fn append_texts<'a>(list: &mut TextList, items: impl IntoIterator<Item = &'a String>) {
    for item in items {
        list.values().append_value(item);
    }
    list.append(true);
}

/// An integer the JSON writes as unsigned, in Spark's signed `long`
/// (values past 2^63 do not occur: they count bytes and packets).
pub(super) fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `flow`, `flow_uid` and `file`: the columns every table starts with.
#[derive(Default)]
pub(super) struct FlowKey {
    flow: Int64Builder,
    flow_uid: StringBuilder,
    file: StringBuilder,
}

impl FlowKey {
    /// `nullable`: only capture-level findings have no flow.
    pub fn fields(nullable: bool) -> [Field; 3] {
        [
            Field::new("flow", DataType::Int64, nullable),
            Field::new("flow_uid", DataType::Utf8, nullable),
            Field::new("file", DataType::Utf8, true),
        ]
    }

    pub fn add(&mut self, flow: Option<u64>, uid: Option<FlowUid>, file: Option<&str>) {
        self.flow.append_option(flow.map(signed));
        self.flow_uid.append_option(uid.map(|u| u.to_string()));
        self.file.append_option(file);
    }

    pub fn add_context(&mut self, flow: u64, uid: Option<FlowUid>, context: &FlowContext) {
        self.add(Some(flow), uid.or(context.uid), context.file.as_deref());
    }

    pub fn finish(&mut self) -> [ArrayRef; 3] {
        [
            Arc::new(self.flow.finish()),
            Arc::new(self.flow_uid.finish()),
            Arc::new(self.file.finish()),
        ]
    }
}

/// `client_ip`, `client_port`, `server_ip`, `server_port`.
#[derive(Default)]
pub(super) struct Endpoints {
    client_ip: StringBuilder,
    client_port: Int32Builder,
    server_ip: StringBuilder,
    server_port: Int32Builder,
}

impl Endpoints {
    pub fn fields() -> [Field; 4] {
        [
            Field::new("client_ip", DataType::Utf8, true),
            Field::new("client_port", DataType::Int32, true),
            Field::new("server_ip", DataType::Utf8, true),
            Field::new("server_port", DataType::Int32, true),
        ]
    }

    pub fn add(&mut self, client: Option<SocketAddr>, server: Option<SocketAddr>) {
        self.client_ip
            .append_option(client.map(|a| a.ip().to_string()));
        self.client_port
            .append_option(client.map(|a| i32::from(a.port())));
        self.server_ip
            .append_option(server.map(|a| a.ip().to_string()));
        self.server_port
            .append_option(server.map(|a| i32::from(a.port())));
    }

    pub fn finish(&mut self) -> [ArrayRef; 4] {
        [
            Arc::new(self.client_ip.finish()),
            Arc::new(self.client_port.finish()),
            Arc::new(self.server_ip.finish()),
            Arc::new(self.server_port.finish()),
        ]
    }
}
