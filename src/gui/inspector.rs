//! (being written)
pub(super) const SPANISH: &[(&str, &str)] = &[];
