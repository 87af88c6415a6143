//! (in progress)
use crate::error::InputError;
use crate::instance::Instance;
use crate::theorem::{InstanceResult, TheoremSpec};

/// Registry entries of this family.
pub fn specs() -> Vec<TheoremSpec> {
    Vec::new()
}

/// `icrl check` for this family.
pub fn check_instance(_inst: &Instance) -> Result<Vec<InstanceResult>, InputError> {
    Ok(Vec::new())
}
