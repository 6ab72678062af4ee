//! `messages.parquet`: one row per `message` record, with its flow's
//! endpoints (so a message path can be drawn from this table alone) and
//! `message`, its index in the run's output (what `transactions.message`
//! and `attachments.message` refer to).

use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, Int64Builder, ListBuilder, StringBuilder, StructBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_schema::{DataType, Field, Fields, SchemaRef};

use super::columns::{
    Endpoints, FlowContext, FlowKey, TextList, append_texts, micros, signed, text_list_field,
    timestamp_builder, timestamp_field,
};
use super::table::{Rows, schema_of};
use crate::mail::{AuthResult, ReceivedHop};
use crate::trace::MessageRecord;

/// The text fields of one `received_hops` struct, in the JSON's order;
/// `delay_secs` follows them.
const HOP_TEXTS: [&str; 8] = [
    "from",
    "from_ip",
    "from_rdns",
    "by",
    "with",
    "id",
    "for",
    "time",
];

fn hop_fields() -> Fields {
    let mut fields: Vec<Field> = HOP_TEXTS
        .iter()
        .map(|name| Field::new(*name, DataType::Utf8, true))
        .collect();
    fields.push(Field::new("delay_secs", DataType::Int64, true));
    Fields::from(fields)
}

/// One struct of the `received_hops` list. The field builders' types are
/// the ones `hop_fields` declares, so the lookups cannot miss.
fn add_hop(s: &mut StructBuilder, h: &ReceivedHop) {
    let texts = [
        &h.from,
        &h.from_ip,
        &h.from_rdns,
        &h.by,
        &h.with,
        &h.id,
        &h.for_,
        &h.time,
    ];
    for (i, text) in texts.into_iter().enumerate() {
        if let Some(b) = s.field_builder::<StringBuilder>(i) {
            b.append_option(text.as_ref());
        }
    }
    if let Some(b) = s.field_builder::<Int64Builder>(HOP_TEXTS.len()) {
        b.append_option(h.delay_secs);
    }
    s.append(true);
}

/// The fields of one `auth_results` struct, in the JSON's order.
fn auth_fields() -> Fields {
    Fields::from(vec![
        Field::new("authserv_id", DataType::Utf8, true),
        Field::new("method", DataType::Utf8, false),
        Field::new("result", DataType::Utf8, false),
        Field::new("reason", DataType::Utf8, true),
        text_list_field("properties", false),
    ])
}

/// An empty `auth_results` struct builder, its field builders of the
/// types `auth_fields` declares (built by hand: the generic one would
/// make the properties list a builder of unknown element type).
fn auth_builder() -> StructBuilder {
    StructBuilder::new(
        auth_fields(),
        vec![
            Box::new(StringBuilder::new()) as Box<dyn ArrayBuilder>,
            Box::new(StringBuilder::new()),
            Box::new(StringBuilder::new()),
            Box::new(StringBuilder::new()),
            Box::new(TextList::new(StringBuilder::new())),
        ],
    )
}

/// One struct of the `auth_results` list.
fn add_auth_result(s: &mut StructBuilder, r: &AuthResult) {
    let texts = [
        r.authserv_id.as_deref(),
        Some(r.method.as_str()),
        Some(r.result.as_str()),
        r.reason.as_deref(),
    ];
    for (i, text) in texts.into_iter().enumerate() {
        if let Some(b) = s.field_builder::<StringBuilder>(i) {
            b.append_option(text);
        }
    }
    if let Some(b) = s.field_builder::<TextList>(texts.len()) {
        append_texts(b, &r.properties);
    }
    s.append(true);
}

pub(super) struct MessageRows {
    len: usize,
    message: Int64Builder,
    key: FlowKey,
    endpoints: Endpoints,
    protocol: StringBuilder,
    via: StringBuilder,
    part: StringBuilder,
    command: StringBuilder,
    ts: TimestampMicrosecondBuilder,
    helo: StringBuilder,
    mail_from: StringBuilder,
    rcpt_to: TextList,
    message_id: StringBuilder,
    subject: StringBuilder,
    from: TextList,
    from_name: StringBuilder,
    to: TextList,
    cc: TextList,
    date: StringBuilder,
    size: Int64Builder,
    sha256: StringBuilder,
    complete: BooleanBuilder,
    attachments: Int64Builder,
    received: TextList,
    received_hops: ListBuilder<StructBuilder>,
    auth_results: ListBuilder<StructBuilder>,
    reply_to: TextList,
    urls: TextList,
    number: Int64Builder,
    uid: Int64Builder,
    deleted: BooleanBuilder,
    tls: StringBuilder,
    eml: StringBuilder,
}

impl Default for MessageRows {
    fn default() -> Self {
        let list = || TextList::new(StringBuilder::new());
        MessageRows {
            len: 0,
            message: Int64Builder::new(),
            key: FlowKey::default(),
            endpoints: Endpoints::default(),
            protocol: StringBuilder::new(),
            via: StringBuilder::new(),
            part: StringBuilder::new(),
            command: StringBuilder::new(),
            ts: timestamp_builder(),
            helo: StringBuilder::new(),
            mail_from: StringBuilder::new(),
            rcpt_to: list(),
            message_id: StringBuilder::new(),
            subject: StringBuilder::new(),
            from: list(),
            from_name: StringBuilder::new(),
            to: list(),
            cc: list(),
            date: StringBuilder::new(),
            size: Int64Builder::new(),
            sha256: StringBuilder::new(),
            complete: BooleanBuilder::new(),
            attachments: Int64Builder::new(),
            received: list(),
            received_hops: ListBuilder::new(StructBuilder::from_fields(hop_fields(), 0)),
            auth_results: ListBuilder::new(auth_builder()),
            reply_to: list(),
            urls: list(),
            number: Int64Builder::new(),
            uid: Int64Builder::new(),
            deleted: BooleanBuilder::new(),
            tls: StringBuilder::new(),
            eml: StringBuilder::new(),
        }
    }
}

impl MessageRows {
    pub fn add(&mut self, m: &MessageRecord, index: i64, context: &FlowContext) {
        self.message.append_value(index);
        self.key.add_context(m.flow, m.flow_uid, context);
        self.endpoints.add(context.client, context.server);
        self.protocol.append_value(m.protocol.as_str());
        self.via.append_value(m.via.as_str());
        self.part.append_value(m.part.as_str());
        self.command.append_value(&m.command);
        self.ts.append_value(micros(m.ts));
        self.helo.append_option(m.helo.as_ref());
        self.mail_from.append_option(m.mail_from.as_ref());
        match &m.rcpt_to {
            Some(to) => append_texts(&mut self.rcpt_to, to),
            None => self.rcpt_to.append(false),
        }
        self.message_id.append_option(m.message_id.as_ref());
        self.subject.append_option(m.subject.as_ref());
        append_texts(&mut self.from, &m.from);
        self.from_name.append_option(m.from_name.as_ref());
        append_texts(&mut self.to, &m.to);
        append_texts(&mut self.cc, &m.cc);
        self.date.append_option(m.date.as_ref());
        self.size.append_value(signed(m.size));
        self.sha256.append_value(&m.sha256);
        self.complete.append_value(m.complete);
        self.attachments
            .append_value(signed(m.attachments.len() as u64));
        append_texts(&mut self.received, &m.received);
        for h in &m.received_hops {
            add_hop(self.received_hops.values(), h);
        }
        self.received_hops.append(true);
        for r in &m.auth_results {
            add_auth_result(self.auth_results.values(), r);
        }
        self.auth_results.append(true);
        append_texts(&mut self.reply_to, &m.reply_to);
        append_texts(&mut self.urls, &m.urls);
        self.number.append_option(m.number.map(signed));
        self.uid.append_option(m.uid.map(signed));
        self.deleted.append_option(m.deleted);
        self.tls.append_option(m.tls);
        self.eml.append_option(m.eml.as_ref());
        self.len += 1;
    }
}

impl Rows for MessageRows {
    fn schema() -> SchemaRef {
        let mut fields = vec![Field::new("message", DataType::Int64, false)];
        fields.extend(FlowKey::fields(false));
        fields.extend(Endpoints::fields());
        fields.extend([
            Field::new("protocol", DataType::Utf8, false),
            Field::new("via", DataType::Utf8, false),
            Field::new("part", DataType::Utf8, false),
            Field::new("command", DataType::Utf8, false),
            timestamp_field("ts", false),
            Field::new("helo", DataType::Utf8, true),
            Field::new("mail_from", DataType::Utf8, true),
            text_list_field("rcpt_to", true),
            Field::new("message_id", DataType::Utf8, true),
            Field::new("subject", DataType::Utf8, true),
            text_list_field("from", false),
            Field::new("from_name", DataType::Utf8, true),
            text_list_field("to", false),
            text_list_field("cc", false),
            Field::new("date", DataType::Utf8, true),
            Field::new("size", DataType::Int64, false),
            Field::new("sha256", DataType::Utf8, false),
            Field::new("complete", DataType::Boolean, false),
            Field::new("attachments", DataType::Int64, false),
            text_list_field("received", false),
            Field::new_list(
                "received_hops",
                Field::new_list_field(DataType::Struct(hop_fields()), true),
                false,
            ),
            Field::new_list(
                "auth_results",
                Field::new_list_field(DataType::Struct(auth_fields()), true),
                false,
            ),
            text_list_field("reply_to", false),
            text_list_field("urls", false),
            Field::new("number", DataType::Int64, true),
            Field::new("uid", DataType::Int64, true),
            Field::new("deleted", DataType::Boolean, true),
            Field::new("tls", DataType::Utf8, true),
            Field::new("eml", DataType::Utf8, true),
        ]);
        schema_of(fields)
    }

    fn len(&self) -> usize {
        self.len
    }

    fn columns(&mut self) -> Vec<ArrayRef> {
        self.len = 0;
        let mut columns: Vec<ArrayRef> = vec![Arc::new(self.message.finish())];
        columns.extend(self.key.finish());
        columns.extend(self.endpoints.finish());
        columns.extend::<[ArrayRef; 29]>([
            Arc::new(self.protocol.finish()),
            Arc::new(self.via.finish()),
            Arc::new(self.part.finish()),
            Arc::new(self.command.finish()),
            Arc::new(self.ts.finish()),
            Arc::new(self.helo.finish()),
            Arc::new(self.mail_from.finish()),
            Arc::new(self.rcpt_to.finish()),
            Arc::new(self.message_id.finish()),
            Arc::new(self.subject.finish()),
            Arc::new(self.from.finish()),
            Arc::new(self.from_name.finish()),
            Arc::new(self.to.finish()),
            Arc::new(self.cc.finish()),
            Arc::new(self.date.finish()),
            Arc::new(self.size.finish()),
            Arc::new(self.sha256.finish()),
            Arc::new(self.complete.finish()),
            Arc::new(self.attachments.finish()),
            Arc::new(self.received.finish()),
            Arc::new(self.received_hops.finish()),
            Arc::new(self.auth_results.finish()),
            Arc::new(self.reply_to.finish()),
            Arc::new(self.urls.finish()),
            Arc::new(self.number.finish()),
            Arc::new(self.uid.finish()),
            Arc::new(self.deleted.finish()),
            Arc::new(self.tls.finish()),
            Arc::new(self.eml.finish()),
        ]);
        columns
    }
}
