//! The embedded mail world: the Alice → Bob delivery path of the textbook,
//! run for real on loopback.

pub mod agents;
pub mod classroom;
pub mod client;
pub mod conn;
pub mod demo;
pub mod dns;
pub mod host;
pub mod imap;
pub mod pop3_server;
pub mod recorder;
pub mod relay;
pub mod running;
pub mod servers;
pub mod smtp_server;
pub mod store;
pub mod tls;
pub mod topology;
pub mod transcript;
