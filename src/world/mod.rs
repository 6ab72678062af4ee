//! The embedded mail world: the Alice → Bob delivery path of the textbook,
//! run for real on loopback.

pub mod agents;
pub mod classroom;
pub mod client;
pub(crate) mod conn;
pub mod demo;
pub(crate) mod dns;
mod durable;
pub mod eve;
pub mod host;
pub(crate) mod imap;
pub(crate) mod policy_server;
pub(crate) mod pop3_server;
pub(crate) mod recorder;
pub(crate) mod relay;
pub mod running;
pub mod servers;
pub(crate) mod smtp_server;
pub mod store;
pub(crate) mod sts_sender;
pub mod tls;
pub mod topology;
pub(crate) mod transcript;
