//! Safe writes of `--out` files (issue 13, item 6): the path is checked **before** the work
//! starts ([`check_out_file`]), and the file is written to a temporary file in the same
//! directory, flushed to disk and renamed over the final path ([`write_atomic`]), so a reader
//! never sees a partial file and a failed write (full disk, size limit) leaves the previous file
//! intact. An existing file is replaced only with `force`; a symbolic link at the path is
//! refused, never followed. Errors name `--out`. Temporary files come from the `tempfile` crate
//! (unique names, removed on drop when the write fails).

use crate::error::InputError;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The directory a file at `path` lives in (`.` for a bare file name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Refuse a path that is a symbolic link, a directory, or (without `force`) an existing file.
fn check_target(path: &Path, force: bool) -> Result<(), InputError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(InputError::new(
            "--out",
            format!("{} is a symbolic link; refusing to write through it", path.display()),
        )),
        Ok(m) if m.is_dir() => Err(InputError::new("--out", format!("{} is a directory", path.display()))),
        Ok(_) if !force => {
            Err(InputError::new("--out", format!("{} exists; pass --force to replace it", path.display())))
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(InputError::new("--out", format!("cannot inspect {}: {e}", path.display()))),
    }
}

/// Check that `path` can be written before any work is done: not a symbolic link or a
/// directory, not an existing file unless `force`, and its directory exists (it is created if
/// missing) and accepts a new file (probed with a temporary file that is removed at once).
pub fn check_out_file(path: &Path, force: bool) -> Result<(), InputError> {
    check_target(path, force)?;
    let dir = parent_dir(path);
    std::fs::create_dir_all(&dir)
        .map_err(|e| InputError::new("--out", format!("cannot create {}: {e}", dir.display())))?;
    tempfile::Builder::new()
        .prefix(".icrl-probe-")
        .tempfile_in(&dir)
        .map(drop)
        .map_err(|e| InputError::new("--out", format!("cannot write in {}: {e}", dir.display())))
}

/// Write `bytes` to `path` atomically: a temporary file in the same directory, written,
/// synced, then renamed onto `path`. Without `force` the rename refuses an existing file
/// (checked again at the rename, so a file that appeared meanwhile is not clobbered).
pub fn write_atomic(path: &Path, bytes: &[u8], force: bool) -> Result<(), InputError> {
    check_target(path, force)?;
    let dir = parent_dir(path);
    let io = |what: &str, e: std::io::Error| InputError::new("--out", format!("cannot {what} {}: {e}", path.display()));
    let mut tmp = tempfile::Builder::new()
        .prefix(".icrl-out-")
        .tempfile_in(&dir)
        .map_err(|e| InputError::new("--out", format!("cannot write in {}: {e}", dir.display())))?;
    tmp.write_all(bytes).map_err(|e| io("write", e))?;
    tmp.as_file().sync_all().map_err(|e| io("write", e))?;
    // `rename` replaces a symbolic link that appeared at `path` by the file, never writes
    // through it; `persist_noclobber` fails if anything exists there.
    if force {
        tmp.persist(path).map_err(|e| io("replace", e.error))?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| io("create", e.error))?;
    }
    Ok(())
}

/// Create the `--out` directory (an error names `--out`).
pub fn ensure_dir(dir: &Path) -> Result<(), InputError> {
    std::fs::create_dir_all(dir).map_err(|e| InputError::new("--out", format!("cannot create {}: {e}", dir.display())))
}
