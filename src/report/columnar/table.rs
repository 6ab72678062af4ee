//! One Parquet file being written: rows gather in Arrow builders and go
//! to the file as a record batch every [`BATCH_ROWS`] rows, so memory
//! stays bounded however long the capture.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::ColumnarError;

/// Rows per record batch handed to the Parquet writer.
const BATCH_ROWS: usize = 8192;
/// Rows per row group: a reader can skip or parallelise by row group,
/// and the writer keeps one row group in memory.
const ROW_GROUP_ROWS: usize = 128 * 1024;

/// The rows of one table, held in column builders.
pub(super) trait Rows: Default {
    /// The table's schema (the same for every run).
    fn schema() -> SchemaRef;
    /// Rows gathered since the last batch.
    fn len(&self) -> usize;
    /// The gathered rows as columns, in schema order; the builders are
    /// left empty.
    fn columns(&mut self) -> Vec<ArrayRef>;
}

pub(super) struct TableFile<R: Rows> {
    pub(super) rows: R,
    writer: ArrowWriter<BufWriter<File>>,
    path: PathBuf,
    written: u64,
}

impl<R: Rows> TableFile<R> {
    pub(super) fn create(dir: &Path, name: &str) -> Result<Self, ColumnarError> {
        let path = dir.join(format!("{name}.parquet"));
        let file = File::create(&path).map_err(|source| ColumnarError::Io {
            path: path.clone(),
            source,
        })?;
        // Snappy: what Spark and most Parquet writers use by default, fast
        // and read everywhere.
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_created_by(format!("mailscope {}", env!("CARGO_PKG_VERSION")))
            .build();
        let writer = ArrowWriter::try_new(
            BufWriter::with_capacity(1 << 16, file),
            R::schema(),
            Some(props),
        )
        .map_err(|source| ColumnarError::Parquet {
            path: path.clone(),
            source,
        })?;
        Ok(TableFile {
            rows: R::default(),
            writer,
            path,
            written: 0,
        })
    }

    pub(super) fn flush_if_full(&mut self) -> Result<(), ColumnarError> {
        if self.rows.len() >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ColumnarError> {
        let n = self.rows.len();
        if n == 0 {
            return Ok(());
        }
        let batch = RecordBatch::try_new(R::schema(), self.rows.columns())
            // A mismatch between a table's schema and its builders is a bug
            // in this module, not in the input; say so rather than panic.
            .map_err(|e| self.error(parquet::errors::ParquetError::ArrowError(e.to_string())))?;
        self.writer.write(&batch).map_err(|e| self.error(e))?;
        self.written += n as u64;
        Ok(())
    }

    fn error(&self, source: parquet::errors::ParquetError) -> ColumnarError {
        ColumnarError::Parquet {
            path: self.path.clone(),
            source,
        }
    }

    /// Writes what is left and the footer; the number of rows written.
    pub(super) fn finish(mut self) -> Result<u64, ColumnarError> {
        self.flush()?;
        let path = self.path.clone();
        let writer = self
            .writer
            .into_inner()
            .map_err(|source| ColumnarError::Parquet {
                path: path.clone(),
                source,
            })?;
        // `into_inner` wrote the footer; flushing the buffer is what is left.
        writer.into_inner().map_err(|e| ColumnarError::Io {
            path,
            source: e.into_error(),
        })?;
        Ok(self.written)
    }
}

/// A schema from its fields (shared by the tables' `schema()`).
pub(super) fn schema_of(fields: Vec<arrow_schema::Field>) -> SchemaRef {
    Arc::new(arrow_schema::Schema::new(fields))
}
