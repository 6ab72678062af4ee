//! Turning an analysis into output: tables and JSON Lines for people and
//! scripts (`docs/output-schema.md` in the shared docs is the contract), the
//! followed stream of one flow, and a connection as a sequence diagram.

pub mod analysis;
pub mod columnar;
pub mod ecs;
// Drawn for the window's "Export the sequence diagram", its only user.
#[cfg(feature = "gui")]
pub(crate) mod diagram;
pub mod extract;
pub mod flows;
pub mod overview;
pub mod stream;
pub mod summary;
pub mod table;
pub mod terminal;
pub mod transcript;
