//! `icrl bench`: end-to-end throughput (in progress).
use crate::error::InputError;

/// Run the named benchmark, returning report lines.
pub fn run(which: &str, seconds: f64) -> Result<Vec<String>, InputError> {
    let mut out = Vec::new();
    if which == "softmax-td" || which == "all" {
        out.extend(crate::theorem::softmax_td::bench(seconds));
    }
    Ok(out)
}
