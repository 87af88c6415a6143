//! `icrl bench`: end-to-end throughput (in progress).
use crate::error::InputError;

/// Run the named benchmark, returning report lines.
pub fn run(_which: &str, _seconds: f64) -> Result<Vec<String>, InputError> {
    Ok(vec![])
}
