//! Snapshots of the `icrl report flow` / `icrl report emergence` tables at fixed seeds
//! (rounded numbers; values at rounding level are masked as `<1e-8`, since their digits depend
//! on the platform's floating-point contraction, not on the claims).

use crate::common;

fn mask(text: &str) -> String {
    common::map_numbers(text, &[',', ';', ')'], |_, x| (x != 0.0 && x.abs() < 1e-8).then(|| "<1e-8".to_string()))
}

#[test]
fn report_flow_snapshot() {
    let o = icrl_proofs::dynamics::report::flow(0).unwrap();
    insta::assert_snapshot!("report_flow_seed0", mask(&o.markdown));
    insta::assert_snapshot!("report_flow_seed0_json", crate::reports::report_json(&o));
    crate::reports::check_output(&o);
}

#[test]
fn report_emergence_snapshot() {
    let o = icrl_proofs::dynamics::report::emergence(0).unwrap();
    insta::assert_snapshot!("report_emergence_seed0", mask(&o.markdown));
    insta::assert_snapshot!("report_emergence_seed0_json", crate::reports::report_json(&o));
    crate::reports::check_output(&o);
}
