//! Snapshots of the `icrl report flow` / `icrl report emergence` tables at fixed seeds
//! (rounded numbers; values at rounding level are masked as `<1e-8`, since their digits depend
//! on the platform's floating-point contraction, not on the claims).

use crate::common;

fn mask(text: &str) -> String {
    common::map_numbers(text, &[',', ';', ')'], |_, x| (x != 0.0 && x.abs() < 1e-8).then(|| "<1e-8".to_string()))
}

#[test]
fn report_flow_snapshot() {
    let o = icrl_proofs::report::dynamics::flow(0).unwrap();
    insta::assert_snapshot!("report_flow_seed0", mask(&o.markdown));
    insta::assert_snapshot!("report_flow_seed0_json", crate::reports::report_json(&o));
    crate::reports::check_output(&o);
}

#[test]
fn report_emergence_snapshot() {
    let o = icrl_proofs::report::dynamics::emergence(0).unwrap();
    insta::assert_snapshot!("report_emergence_seed0", mask(&o.markdown));
    insta::assert_snapshot!("report_emergence_seed0_json", crate::reports::report_json(&o));
    crate::reports::check_output(&o);
}

/// A `train` page for a snapshot: the wall-clock figures (`3.5 s`, `(8.56 µs/frame)`) become
/// `<timing>` and values at rounding level `<1e-8`, as in the report snapshots.
fn mask_train(text: &str) -> String {
    let masked = common::map_numbers(text, &[',', ';', ')', '.'], |_, x| {
        (x != 0.0 && x.abs() < 1e-8).then(|| "<1e-8".to_string())
    });
    masked
        .lines()
        .map(|l| {
            let toks: Vec<&str> = l.split(' ').collect();
            (0..toks.len())
                .map(|i| {
                    let next = toks.get(i + 1).copied().unwrap_or("");
                    if ["s", "s.", "s,"].contains(&next) && toks[i].parse::<f64>().is_ok() {
                        "<timing>".to_string()
                    } else if next.starts_with("µs/frame") && toks[i].starts_with('(') {
                        "(<timing>".to_string()
                    } else {
                        toks[i].to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn mask_train_hides_timings_only() {
    let line = "2000 MDPs × 200 frames, minibatch 16 MDPs, 25000 Adam steps, 3.5 s (8.56 µs/frame).";
    assert_eq!(
        mask_train(line),
        "2000 MDPs × 200 frames, minibatch 16 MDPs, 25000 Adam steps, <timing> s (<timing> µs/frame)."
    );
    assert_eq!(mask_train("(3×3), 12.0 s."), "(3×3), <timing> s.");
    assert_eq!(mask_train("loss 4.4e-10 → 0.25."), "loss <1e-8 → 0.25.");
}

/// `icrl train sarsa --preset small --seed 0` (≈ 4 s in release): the page and the numbers at a
/// fixed seed, and the written set (md, json, svg + csv; SVG labels and tick digits).
#[test]
fn train_sarsa_snapshot() {
    let o = icrl_proofs::report::train::cli_train(
        "sarsa",
        "small",
        0,
        false,
        icrl_proofs::report::train::TdOptions::default(),
    )
    .unwrap();
    assert_eq!(o.name, "train-sarsa");
    insta::assert_snapshot!("train_sarsa_small_seed0", mask_train(&o.markdown));
    insta::assert_snapshot!("train_sarsa_small_seed0_json", crate::reports::report_json(&o));
    crate::reports::check_output(&o);
}

/// `train td` on a small setting (40 of [WB]'s 5 000 MRPs, everything else [WB]'s; ≈ 2 s in
/// release; the CLI's full setting takes minutes): the page, the numbers and the written set.
#[test]
fn train_td_snapshot() {
    let cfg =
        icrl_proofs::dynamics::train_td::TdConfig { mrps: 40, ..icrl_proofs::dynamics::train_td::TdConfig::wb(0) };
    let o = icrl_proofs::report::train::train_td_output(&cfg).unwrap();
    assert_eq!(o.name, "train-td");
    insta::assert_snapshot!("train_td_mrps40_seed0", mask_train(&o.markdown));
    insta::assert_snapshot!("train_td_mrps40_seed0_json", crate::reports::report_json(&o));
    crate::reports::check_output(&o);
}
