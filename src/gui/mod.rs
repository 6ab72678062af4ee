//! The classroom window (egui/eframe): a capture animated as hosts,
//! connections and packets on a timeline, with the textbook transcript,
//! the message inspector and what an eavesdropper reads.
//!
//! The window reads the same analysis as every report: [`loader`] runs the
//! analyzer on a capture (off the UI thread) and gathers a [`model::Scene`];
//! the panels only draw the scene at the playhead's time.

pub mod i18n;
pub mod loader;
pub mod model;
pub mod export;
pub mod inspector;
