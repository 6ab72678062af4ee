//! `attachments.parquet`: one row per attachment of a `message` record
//! (the JSON nests them in the message), with the message's index and
//! hash to join back.

use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_array::builder::{BooleanBuilder, Int32Builder, Int64Builder, StringBuilder};
use arrow_schema::{DataType, Field, SchemaRef};

use super::columns::{FlowContext, FlowKey, signed};
use super::table::{Rows, schema_of};
use crate::mail::AttachmentInfo;
use crate::trace::MessageRecord;

#[derive(Default)]
pub(super) struct AttachmentRows {
    len: usize,
    message: Int64Builder,
    key: FlowKey,
    message_sha256: StringBuilder,
    attachment: Int32Builder,
    filename: StringBuilder,
    content_type: StringBuilder,
    size: Int64Builder,
    md5: StringBuilder,
    sha256: StringBuilder,
    part: StringBuilder,
    container: StringBuilder,
    complete: BooleanBuilder,
    path: StringBuilder,
}

impl AttachmentRows {
    /// `position`: the attachment's place in the message's list.
    pub fn add(
        &mut self,
        a: &AttachmentInfo,
        position: usize,
        m: &MessageRecord,
        message: i64,
        context: &FlowContext,
    ) {
        self.message.append_value(message);
        self.key.add_context(m.flow, m.flow_uid, context);
        self.message_sha256.append_value(&m.sha256);
        self.attachment
            .append_value(i32::try_from(position).unwrap_or(i32::MAX));
        self.filename.append_option(a.filename.as_ref());
        self.content_type.append_value(&a.content_type);
        self.size.append_value(signed(a.size));
        self.md5.append_value(&a.md5);
        self.sha256.append_value(&a.sha256);
        self.part.append_value(&a.part);
        self.container.append_option(a.container.as_ref());
        self.complete.append_value(a.complete);
        self.path.append_option(a.path.as_ref());
        self.len += 1;
    }
}

impl Rows for AttachmentRows {
    fn schema() -> SchemaRef {
        let mut fields = vec![Field::new("message", DataType::Int64, false)];
        fields.extend(FlowKey::fields(false));
        fields.extend([
            Field::new("message_sha256", DataType::Utf8, false),
            Field::new("attachment", DataType::Int32, false),
            Field::new("filename", DataType::Utf8, true),
            Field::new("content_type", DataType::Utf8, false),
            Field::new("size", DataType::Int64, false),
            Field::new("md5", DataType::Utf8, false),
            Field::new("sha256", DataType::Utf8, false),
            Field::new("part", DataType::Utf8, false),
            Field::new("container", DataType::Utf8, true),
            Field::new("complete", DataType::Boolean, false),
            Field::new("path", DataType::Utf8, true),
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
        columns.extend::<[ArrayRef; 11]>([
            Arc::new(self.message_sha256.finish()),
            Arc::new(self.attachment.finish()),
            Arc::new(self.filename.finish()),
            Arc::new(self.content_type.finish()),
            Arc::new(self.size.finish()),
            Arc::new(self.md5.finish()),
            Arc::new(self.sha256.finish()),
            Arc::new(self.part.finish()),
            Arc::new(self.container.finish()),
            Arc::new(self.complete.finish()),
            Arc::new(self.path.finish()),
        ]);
        columns
    }
}
