//! Snapshots of the `icrl report flow` / `icrl report emergence` tables at fixed seeds
//! (rounded numbers; values at rounding level are masked as `<1e-8`, since their digits depend
//! on the platform's floating-point contraction, not on the claims).

use crate::common;

fn mask(text: &str) -> String {
    common::map_numbers(text, &[',', ';', ')'], |_, x| (x != 0.0 && x.abs() < 1e-8).then(|| "<1e-8".to_string()))
}

#[test]
fn report_flow_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let text = icrl_proofs::dynamics::report::flow(dir.path(), 0).unwrap();
    assert!(dir.path().join("flow-loss.svg").exists());
    insta::assert_snapshot!("report_flow_seed0", mask(&text));
}

#[test]
fn report_emergence_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let text = icrl_proofs::dynamics::report::emergence(dir.path(), 0).unwrap();
    assert!(dir.path().join("emergence-control.svg").exists());
    insta::assert_snapshot!("report_emergence_seed0", mask(&text));
}
