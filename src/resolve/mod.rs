//! Resolution: which module versions a distribution gets, and why.
pub mod ranges;
