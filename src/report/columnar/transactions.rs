//! `transactions.parquet`: one row per SMTP `transaction` record, its
//! recipients' replies as a list of structs.

use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_array::builder::{
    Int32Builder, Int64Builder, ListBuilder, StringBuilder, StructBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_schema::{DataType, Field, Fields, SchemaRef};

use super::columns::{
    Endpoints, FlowContext, FlowKey, TextList, append_texts, micros, signed, text_list_field,
    timestamp_builder, timestamp_field,
};
use super::table::{Rows, schema_of};
use crate::trace::{Recipient, Transaction};

fn recipient_fields() -> Fields {
    Fields::from(vec![
        Field::new("address", DataType::Utf8, false),
        Field::new("code", DataType::Int32, true),
        Field::new("reply", DataType::Utf8, true),
    ])
}

pub(super) struct TransactionRows {
    len: usize,
    key: FlowKey,
    endpoints: Endpoints,
    ts: TimestampMicrosecondBuilder,
    helo: StringBuilder,
    mail_from: StringBuilder,
    rcpt_to: TextList,
    rcpt_rejected: TextList,
    status: StringBuilder,
    message: Int64Builder,
    reply: StringBuilder,
    recipients: ListBuilder<StructBuilder>,
}

impl Default for TransactionRows {
    fn default() -> Self {
        TransactionRows {
            len: 0,
            key: FlowKey::default(),
            endpoints: Endpoints::default(),
            ts: timestamp_builder(),
            helo: StringBuilder::new(),
            mail_from: StringBuilder::new(),
            rcpt_to: TextList::new(StringBuilder::new()),
            rcpt_rejected: TextList::new(StringBuilder::new()),
            status: StringBuilder::new(),
            message: Int64Builder::new(),
            reply: StringBuilder::new(),
            recipients: ListBuilder::new(StructBuilder::from_fields(recipient_fields(), 0)),
        }
    }
}

impl TransactionRows {
    pub fn add(&mut self, t: &Transaction, context: &FlowContext) {
        self.key.add_context(t.flow, t.flow_uid, context);
        self.endpoints.add(context.client, context.server);
        self.ts.append_value(micros(t.ts));
        self.helo.append_option(t.helo.as_ref());
        self.mail_from.append_option(t.mail_from.as_ref());
        append_texts(&mut self.rcpt_to, &t.rcpt_to);
        append_texts(&mut self.rcpt_rejected, &t.rcpt_rejected);
        self.status.append_value(t.status.as_str());
        self.message
            .append_option(t.message.map(|m| signed(m as u64)));
        self.reply.append_option(t.reply.as_ref());
        for r in &t.recipients {
            add_recipient(self.recipients.values(), r);
        }
        self.recipients.append(true);
        self.len += 1;
    }
}

/// One struct of the `recipients` list. The field builders' types are the
/// ones `recipient_fields` declares, so the lookups cannot miss.
fn add_recipient(s: &mut StructBuilder, r: &Recipient) {
    if let Some(b) = s.field_builder::<StringBuilder>(0) {
        b.append_value(&r.address);
    }
    if let Some(b) = s.field_builder::<Int32Builder>(1) {
        b.append_option(r.code.map(i32::from));
    }
    if let Some(b) = s.field_builder::<StringBuilder>(2) {
        b.append_option(r.reply.as_ref());
    }
    s.append(true);
}

impl Rows for TransactionRows {
    fn schema() -> SchemaRef {
        let mut fields = Vec::from(FlowKey::fields(false));
        fields.extend(Endpoints::fields());
        fields.extend([
            timestamp_field("ts", false),
            Field::new("helo", DataType::Utf8, true),
            Field::new("mail_from", DataType::Utf8, true),
            text_list_field("rcpt_to", false),
            text_list_field("rcpt_rejected", false),
            Field::new("status", DataType::Utf8, false),
            Field::new("message", DataType::Int64, true),
            Field::new("reply", DataType::Utf8, true),
            Field::new_list(
                "recipients",
                Field::new_list_field(DataType::Struct(recipient_fields()), true),
                false,
            ),
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
        columns.extend::<[ArrayRef; 9]>([
            Arc::new(self.ts.finish()),
            Arc::new(self.helo.finish()),
            Arc::new(self.mail_from.finish()),
            Arc::new(self.rcpt_to.finish()),
            Arc::new(self.rcpt_rejected.finish()),
            Arc::new(self.status.finish()),
            Arc::new(self.message.finish()),
            Arc::new(self.reply.finish()),
            Arc::new(self.recipients.finish()),
        ]);
        columns
    }
}
