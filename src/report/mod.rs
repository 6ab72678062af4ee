//! Turning an analysis into output: tables and JSON Lines for people and
//! scripts (`docs/output-schema.md` in the shared docs is the contract), and
//! the followed stream of one flow.

pub mod analysis;
pub mod extract;
pub mod flows;
pub mod stream;
pub mod summary;
pub mod transcript;
