//! The embedded mail world: the Alice → Bob delivery path of the textbook,
//! run for real on loopback.

pub mod conn;
pub mod host;
pub mod recorder;
pub mod store;
pub mod tls;
