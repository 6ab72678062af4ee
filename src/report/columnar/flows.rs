//! `flows.parquet`: one row per `flow` record of `analyze --json`.

use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_array::builder::{
    Float64Builder, Int32Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_schema::{DataType, Field, SchemaRef};

use super::columns::{
    Endpoints, FlowContext, FlowKey, TextList, append_texts, micros, signed, text_list_field,
    timestamp_builder, timestamp_field,
};
use super::table::{Rows, schema_of};
use crate::trace::AnalyzedFlowRecord;

pub(super) struct FlowRows {
    len: usize,
    key: FlowKey,
    endpoints: Endpoints,
    protocol: StringBuilder,
    tls: StringBuilder,
    start: TimestampMicrosecondBuilder,
    end: TimestampMicrosecondBuilder,
    duration: Float64Builder,
    packets: Int64Builder,
    bytes_c2s: Int64Builder,
    bytes_s2c: Int64Builder,
    gaps: Int64Builder,
    gap_bytes: Int64Builder,
    retransmitted_bytes: Int64Builder,
    state: StringBuilder,
    client_evidence: StringBuilder,
    protocol_reason: StringBuilder,
    first_packet: Int64Builder,
    tunnel: StringBuilder,
    tunnel_host: StringBuilder,
    tunnel_port: Int32Builder,
    tunnel_user: StringBuilder,
    messages: Int64Builder,
    credentials: Int64Builder,
    findings: Int64Builder,
    helo: StringBuilder,
    capabilities: TextList,
    tls_version: StringBuilder,
    tls_sni: StringBuilder,
    tls_cipher: StringBuilder,
    tls_alpn: TextList,
}

impl Default for FlowRows {
    fn default() -> Self {
        FlowRows {
            len: 0,
            key: FlowKey::default(),
            endpoints: Endpoints::default(),
            protocol: StringBuilder::new(),
            tls: StringBuilder::new(),
            start: timestamp_builder(),
            end: timestamp_builder(),
            duration: Float64Builder::new(),
            packets: Int64Builder::new(),
            bytes_c2s: Int64Builder::new(),
            bytes_s2c: Int64Builder::new(),
            gaps: Int64Builder::new(),
            gap_bytes: Int64Builder::new(),
            retransmitted_bytes: Int64Builder::new(),
            state: StringBuilder::new(),
            client_evidence: StringBuilder::new(),
            protocol_reason: StringBuilder::new(),
            first_packet: Int64Builder::new(),
            tunnel: StringBuilder::new(),
            tunnel_host: StringBuilder::new(),
            tunnel_port: Int32Builder::new(),
            tunnel_user: StringBuilder::new(),
            messages: Int64Builder::new(),
            credentials: Int64Builder::new(),
            findings: Int64Builder::new(),
            helo: StringBuilder::new(),
            capabilities: TextList::new(StringBuilder::new()),
            tls_version: StringBuilder::new(),
            tls_sni: StringBuilder::new(),
            tls_cipher: StringBuilder::new(),
            tls_alpn: TextList::new(StringBuilder::new()),
        }
    }
}

impl FlowRows {
    pub fn add(&mut self, r: &AnalyzedFlowRecord<'_>, context: &FlowContext) {
        let f = &r.flow;
        self.key.add_context(f.id, Some(f.flow_uid), context);
        self.endpoints.add(Some(f.client), Some(f.server));
        self.protocol.append_value(f.protocol.as_str());
        self.tls.append_value(f.tls.as_str());
        self.start.append_value(micros(f.start));
        self.end.append_value(micros(f.end));
        self.duration.append_value(f.duration);
        self.packets.append_value(signed(f.packets));
        self.bytes_c2s.append_value(signed(f.bytes_c2s));
        self.bytes_s2c.append_value(signed(f.bytes_s2c));
        self.gaps.append_value(signed(f.gaps));
        self.gap_bytes.append_value(signed(f.gap_bytes));
        self.retransmitted_bytes
            .append_value(signed(f.retransmitted_bytes));
        self.state.append_value(f.state.as_str());
        self.client_evidence
            .append_value(f.client_evidence.as_str());
        self.protocol_reason.append_value(f.protocol_reason);
        self.first_packet.append_value(signed(f.first_packet));
        let tunnel = f.tunnel.as_ref();
        self.tunnel.append_option(tunnel.map(|t| t.kind.as_str()));
        self.tunnel_host.append_option(tunnel.map(|t| &t.host));
        self.tunnel_port
            .append_option(tunnel.map(|t| i32::from(t.port)));
        self.tunnel_user
            .append_option(tunnel.and_then(|t| t.user.as_ref()));
        self.messages.append_value(signed(r.messages as u64));
        self.credentials.append_value(signed(r.credentials as u64));
        self.findings.append_value(signed(r.findings as u64));
        self.helo.append_option(r.helo);
        append_texts(&mut self.capabilities, r.capabilities);
        let tls = r.tls_info;
        self.tls_version
            .append_option(tls.and_then(|t| t.version.as_ref()));
        self.tls_sni.append_option(tls.and_then(|t| t.sni.as_ref()));
        self.tls_cipher
            .append_option(tls.and_then(|t| t.cipher.as_ref()));
        match tls {
            Some(t) => append_texts(&mut self.tls_alpn, &t.alpn),
            None => self.tls_alpn.append(false),
        }
        self.len += 1;
    }
}

impl Rows for FlowRows {
    fn schema() -> SchemaRef {
        let mut fields = Vec::from(FlowKey::fields(false));
        fields.extend(Endpoints::fields());
        fields.extend([
            Field::new("protocol", DataType::Utf8, false),
            Field::new("tls", DataType::Utf8, false),
            timestamp_field("start", false),
            timestamp_field("end", false),
            Field::new("duration", DataType::Float64, false),
            Field::new("packets", DataType::Int64, false),
            Field::new("bytes_c2s", DataType::Int64, false),
            Field::new("bytes_s2c", DataType::Int64, false),
            Field::new("gaps", DataType::Int64, false),
            Field::new("gap_bytes", DataType::Int64, false),
            Field::new("retransmitted_bytes", DataType::Int64, false),
            Field::new("state", DataType::Utf8, false),
            Field::new("client_evidence", DataType::Utf8, false),
            Field::new("protocol_reason", DataType::Utf8, false),
            Field::new("first_packet", DataType::Int64, false),
            Field::new("tunnel", DataType::Utf8, true),
            Field::new("tunnel_host", DataType::Utf8, true),
            Field::new("tunnel_port", DataType::Int32, true),
            Field::new("tunnel_user", DataType::Utf8, true),
            Field::new("messages", DataType::Int64, false),
            Field::new("credentials", DataType::Int64, false),
            Field::new("findings", DataType::Int64, false),
            Field::new("helo", DataType::Utf8, true),
            text_list_field("capabilities", false),
            Field::new("tls_version", DataType::Utf8, true),
            Field::new("tls_sni", DataType::Utf8, true),
            Field::new("tls_cipher", DataType::Utf8, true),
            text_list_field("tls_alpn", true),
        ]);
        schema_of(fields)
    }

    fn len(&self) -> usize {
        self.len
    }

    fn columns(&mut self) -> Vec<ArrayRef> {
        self.len = 0;
        let mut columns = Vec::from(self.key.finish());
        columns.extend(self.endpoints.finish());
        columns.extend::<[ArrayRef; 28]>([
            Arc::new(self.protocol.finish()),
            Arc::new(self.tls.finish()),
            Arc::new(self.start.finish()),
            Arc::new(self.end.finish()),
            Arc::new(self.duration.finish()),
            Arc::new(self.packets.finish()),
            Arc::new(self.bytes_c2s.finish()),
            Arc::new(self.bytes_s2c.finish()),
            Arc::new(self.gaps.finish()),
            Arc::new(self.gap_bytes.finish()),
            Arc::new(self.retransmitted_bytes.finish()),
            Arc::new(self.state.finish()),
            Arc::new(self.client_evidence.finish()),
            Arc::new(self.protocol_reason.finish()),
            Arc::new(self.first_packet.finish()),
            Arc::new(self.tunnel.finish()),
            Arc::new(self.tunnel_host.finish()),
            Arc::new(self.tunnel_port.finish()),
            Arc::new(self.tunnel_user.finish()),
            Arc::new(self.messages.finish()),
            Arc::new(self.credentials.finish()),
            Arc::new(self.findings.finish()),
            Arc::new(self.helo.finish()),
            Arc::new(self.capabilities.finish()),
            Arc::new(self.tls_version.finish()),
            Arc::new(self.tls_sni.finish()),
            Arc::new(self.tls_cipher.finish()),
            Arc::new(self.tls_alpn.finish()),
        ]);
        columns
    }
}
