//! `credentials.parquet`: one row per `credential` record.

use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_array::builder::{BooleanBuilder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_schema::{DataType, Field, SchemaRef};

use super::columns::{
    Endpoints, FlowContext, FlowKey, TextList, append_texts, micros, text_list_field,
    timestamp_builder, timestamp_field,
};
use super::table::{Rows, schema_of};
use crate::trace::Credential;

pub(super) struct CredentialRows {
    len: usize,
    key: FlowKey,
    endpoints: Endpoints,
    ts: TimestampMicrosecondBuilder,
    protocol: StringBuilder,
    mechanism: StringBuilder,
    username: StringBuilder,
    password: StringBuilder,
    success: BooleanBuilder,
    reply: StringBuilder,
    authzid: StringBuilder,
    note: StringBuilder,
    evidence: TextList,
    tls: StringBuilder,
}

impl Default for CredentialRows {
    fn default() -> Self {
        CredentialRows {
            len: 0,
            key: FlowKey::default(),
            endpoints: Endpoints::default(),
            ts: timestamp_builder(),
            protocol: StringBuilder::new(),
            mechanism: StringBuilder::new(),
            username: StringBuilder::new(),
            password: StringBuilder::new(),
            success: BooleanBuilder::new(),
            reply: StringBuilder::new(),
            authzid: StringBuilder::new(),
            note: StringBuilder::new(),
            evidence: TextList::new(StringBuilder::new()),
            tls: StringBuilder::new(),
        }
    }
}

impl CredentialRows {
    pub fn add(&mut self, c: &Credential, context: &FlowContext) {
        self.key.add_context(c.flow, c.flow_uid, context);
        self.endpoints.add(context.client, context.server);
        self.ts.append_value(micros(c.ts));
        self.protocol.append_value(c.protocol.as_str());
        self.mechanism.append_value(&c.mechanism);
        self.username.append_option(c.username.as_ref());
        self.password.append_option(c.password.as_ref());
        self.success.append_option(c.success);
        self.reply.append_option(c.reply.as_ref());
        self.authzid.append_option(c.authzid.as_ref());
        self.note.append_option(c.note.as_ref());
        append_texts(&mut self.evidence, &c.evidence);
        self.tls.append_option(c.tls);
        self.len += 1;
    }
}

impl Rows for CredentialRows {
    fn schema() -> SchemaRef {
        let mut fields = Vec::from(FlowKey::fields(false));
        fields.extend(Endpoints::fields());
        fields.extend([
            timestamp_field("ts", false),
            Field::new("protocol", DataType::Utf8, false),
            Field::new("mechanism", DataType::Utf8, false),
            Field::new("username", DataType::Utf8, true),
            Field::new("password", DataType::Utf8, true),
            Field::new("success", DataType::Boolean, true),
            Field::new("reply", DataType::Utf8, true),
            Field::new("authzid", DataType::Utf8, true),
            Field::new("note", DataType::Utf8, true),
            text_list_field("evidence", false),
            Field::new("tls", DataType::Utf8, true),
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
        columns.extend::<[ArrayRef; 11]>([
            Arc::new(self.ts.finish()),
            Arc::new(self.protocol.finish()),
            Arc::new(self.mechanism.finish()),
            Arc::new(self.username.finish()),
            Arc::new(self.password.finish()),
            Arc::new(self.success.finish()),
            Arc::new(self.reply.finish()),
            Arc::new(self.authzid.finish()),
            Arc::new(self.note.finish()),
            Arc::new(self.evidence.finish()),
            Arc::new(self.tls.finish()),
        ]);
        columns
    }
}
