//! `icrl report KIND`: experiments that are reported, not asserted (tables, and plots where a
//! family provides them). Tables use fixed seeds and rounded numbers, so they are snapshotted.

use crate::error::InputError;
use std::path::Path;

/// Report kinds.
pub const KINDS: &[&str] = &["actor-critic"];

/// Produce report `kind`; with `out`, also write its files there. Returns the text printed.
pub fn run(kind: &str, out: Option<&Path>, seed: u64) -> Result<String, InputError> {
    let (text, file) = match kind {
        "actor-critic" => (crate::theorem::actor_critic::policy_improvement_table(seed, 64, 30), "actor-critic.txt"),
        other => return Err(InputError::new("KIND", format!("unknown report {other:?}; expected one of {}", KINDS.join(", ")))),
    };
    if let Some(dir) = out {
        std::fs::create_dir_all(dir).map_err(|e| InputError::new("--out", format!("cannot create {}: {e}", dir.display())))?;
        let p = dir.join(file);
        std::fs::write(&p, &text).map_err(|e| InputError::new("--out", format!("cannot write {}: {e}", p.display())))?;
    }
    Ok(text)
}
