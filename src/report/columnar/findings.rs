//! `findings.parquet`: one row per `finding` record, the capture's own
//! (damage the reader met: no flow) included.

use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_array::builder::{Int64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_schema::{DataType, Field, SchemaRef};

use super::columns::{FlowKey, micros, signed, timestamp_builder, timestamp_field};
use super::table::{Rows, schema_of};
use crate::trace::Finding;

pub(super) struct FindingRows {
    len: usize,
    key: FlowKey,
    ts: TimestampMicrosecondBuilder,
    severity: StringBuilder,
    code: StringBuilder,
    message: StringBuilder,
    offset: Int64Builder,
}

impl Default for FindingRows {
    fn default() -> Self {
        FindingRows {
            len: 0,
            key: FlowKey::default(),
            ts: timestamp_builder(),
            severity: StringBuilder::new(),
            code: StringBuilder::new(),
            message: StringBuilder::new(),
            offset: Int64Builder::new(),
        }
    }
}

impl FindingRows {
    pub fn add(&mut self, f: &Finding, file: Option<&str>) {
        self.key.add(f.flow, f.flow_uid, file);
        self.ts.append_option(f.ts.map(micros));
        self.severity.append_value(f.severity.as_str());
        self.code.append_value(f.code.as_str());
        self.message.append_value(&f.message);
        self.offset.append_option(f.offset.map(signed));
        self.len += 1;
    }
}

impl Rows for FindingRows {
    fn schema() -> SchemaRef {
        let mut fields = Vec::from(FlowKey::fields(true));
        fields.extend([
            timestamp_field("ts", true),
            Field::new("severity", DataType::Utf8, false),
            Field::new("code", DataType::Utf8, false),
            Field::new("message", DataType::Utf8, false),
            Field::new("offset", DataType::Int64, true),
        ]);
        schema_of(fields)
    }

    fn len(&self) -> usize {
        self.len
    }

    fn columns(&mut self) -> Vec<ArrayRef> {
        self.len = 0;
        let mut columns = Vec::from(self.key.finish());
        columns.extend::<[ArrayRef; 5]>([
            Arc::new(self.ts.finish()),
            Arc::new(self.severity.finish()),
            Arc::new(self.code.finish()),
            Arc::new(self.message.finish()),
            Arc::new(self.offset.finish()),
        ]);
        columns
    }
}
