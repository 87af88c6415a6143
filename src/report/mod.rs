//! `icrl report`: tables and plots that summarize a theorem family's measured behaviour
//! (fixed seeds, rounded numbers; the tables are snapshotted in the tests).

pub mod decay;
pub mod neu;

use crate::error::InputError;
use std::path::{Path, PathBuf};

/// Create the `--out` directory (an error names `--out`).
pub fn ensure_dir(dir: &Path) -> Result<(), InputError> {
    std::fs::create_dir_all(dir).map_err(|e| InputError::new("--out", format!("cannot create {}: {e}", dir.display())))
}

/// Write `text` to `dir/name` atomically (temporary file + rename, see [`crate::fsutil`]; an
/// error names `--out`); returns the path. A report directory holds generated files, so an
/// existing file is replaced; a symbolic link at the path is refused.
pub fn write_text(dir: &Path, name: &str, text: &str) -> Result<PathBuf, InputError> {
    let p = dir.join(name);
    crate::fsutil::write_atomic(&p, text.as_bytes(), true)?;
    Ok(p)
}

/// The in-context policy-improvement table ([R] actor-critic): 64 random MDPs, 30 steps; with
/// `out`, also written to `out/actor-critic.txt`.
pub fn actor_critic(out: Option<&Path>, seed: u64) -> Result<String, InputError> {
    let text = crate::theorem::actor_critic::policy_improvement_table(seed, 64, 30);
    if let Some(dir) = out {
        ensure_dir(dir)?;
        write_text(dir, "actor-critic.txt", &text)?;
    }
    Ok(text)
}
