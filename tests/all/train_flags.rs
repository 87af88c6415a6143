//! The experiment flags of `icrl train` (issue 10 item 4, [WB]'s `main.py` flags): the sizes reach
//! the run, every flag is read, seed sweeps summarize their seeds, bad values exit 2 naming the
//! flag, the activations' hand-written gradients match finite differences, and [WB]'s Loop MRP
//! has the structure their `MRP/loop.py` builds.

use icrl_proofs::dynamics::{loss, train_td};
use icrl_proofs::mdp::generators::{boyan_chain, loop_mrp, LOOP_THRESHOLD};
use icrl_proofs::mdp::Mrp;
use icrl_proofs::report::train::{sweep_metrics, td_config, TrainFlags};
use icrl_proofs::tolerance;
use std::path::PathBuf;
use std::process::{Command, Output};

fn icrl(args: &[&str], threads: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_icrl")).args(args).env("RAYON_NUM_THREADS", threads).output().expect("runs")
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("icrl-train-flags-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Run `icrl ARGS --json --out TMP` and parse stdout (one pretty JSON object).
fn run_json(args: &[&str], name: &str) -> serde_json::Value {
    let dir = tmpdir(name);
    let mut a = args.to_vec();
    let d = dir.display().to_string();
    a.extend(["--json", "--out", &d]);
    let o = icrl(&a, "2");
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    let _ = std::fs::remove_dir_all(&dir);
    serde_json::from_slice(&o.stdout).expect("one JSON object")
}

/// The command: `train td -d 3 -n 20 -l 2 --mrps 300 --json` runs and reports those sizes,
/// and its trained parameters have them.
#[test]
fn train_td_small_setting_reports_its_sizes() {
    let v = run_json(&["train", "td", "-d", "3", "-n", "20", "-l", "2", "--mrps", "300"], "sizes");
    let z = &v["numbers"]["sizes"];
    assert_eq!((z["d"].as_u64(), z["n"].as_u64(), z["layers"].as_u64()), (Some(3), Some(20), Some(2)), "{z}");
    assert_eq!(v["numbers"]["mrps"].as_u64(), Some(300));
    let p = v["numbers"]["p"].as_array().unwrap();
    assert_eq!(p.len(), 2, "two layers");
    assert_eq!(p[0].as_array().unwrap().len(), 7, "2d+1 rows");
    assert_eq!(v["numbers"]["layers"].as_array().unwrap().len(), 2);
    // the init gain follows the chosen depth: 0.1 / L
    assert_eq!(z["init_gain"].as_f64(), Some(0.1 / 2.0));
}

/// `train softmax-td` takes the size flags that apply to it: they reach its configuration echo.
#[test]
fn train_softmax_td_takes_the_size_flags() {
    let args =
        ["train", "softmax-td", "-d", "2", "--states", "3", "-n", "6", "-l", "2", "--gamma", "0.5", "--mrps", "7"];
    let mut a = args.to_vec();
    a.extend(["--batch-size", "4", "--lr", "0.01", "--init-gain", "0.2", "--dense", "--batches-per-mrp", "2"]);
    a.extend(["--weight-decay", "0.001", "--representable", "--env", "loop"]);
    let v = run_json(&a, "softmax-sizes");
    let z = &v["numbers"]["sizes"];
    let got = (z["d"].as_u64(), z["n_states"].as_u64(), z["n"].as_u64(), z["layers"].as_u64(), z["mrps"].as_u64());
    assert_eq!(got, (Some(2), Some(3), Some(6), Some(2), Some(7)), "{z}");
    assert_eq!((z["gamma"].as_f64(), z["batch"].as_u64(), z["lr"].as_f64()), (Some(0.5), Some(4), Some(0.01)), "{z}");
    assert_eq!((z["init_gain"].as_f64(), z["dense"].as_bool()), (Some(0.2), Some(true)), "{z}");
    assert_eq!((z["batches_per_mrp"].as_u64(), z["weight_decay"].as_f64()), (Some(2), Some(0.001)), "{z}");
    assert_eq!((z["representable"].as_bool(), z["env"].as_str()), (Some(true), Some("loop")), "{z}");
    // without them the echo keeps the default setting's keys only
    let v = run_json(&args, "softmax-sizes-default");
    let z = v["numbers"]["sizes"].as_object().unwrap();
    assert!(["batches_per_mrp", "weight_decay", "representable", "env"].iter().all(|k| !z.contains_key(*k)), "{z:?}");
}

/// With no flag the configuration is [WB]'s setting (`TdConfig::wb`), field by field.
#[test]
fn no_flags_is_the_wb_setting() {
    let (a, b) = (td_config(&TrainFlags::default(), 7), train_td::TdConfig::wb(7));
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
}

/// Every `train td` and `train sarsa` flag is read: set to a non-default value, it appears in the
/// report's configuration echo; without it the echo has the default.
#[test]
fn every_flag_reaches_the_config_echo() {
    let base = ["train", "td", "-d", "2", "-n", "6", "-l", "1", "--mrps", "2", "--batch-size", "4"];
    let mut all = base.to_vec();
    all.extend([
        "--batches-per-mrp",
        "2",
        "--states",
        "5",
        "--gamma",
        "0.5",
        "--lr",
        "0.01",
        "--weight-decay",
        "0.001",
        "--representable",
        "--activation",
        "softmax",
        "--env",
        "loop",
        "--shared",
        "--init-gain",
        "0.2",
    ]);
    let set = run_json(&all, "echo-td");
    let def = run_json(&base, "echo-td-default");
    let (n, z) = (&set["numbers"], &set["numbers"]["sizes"]);
    let (dn, dz) = (&def["numbers"], &def["numbers"]["sizes"]);
    let wb = train_td::TdConfig::wb(0);
    let cases: [(&str, serde_json::Value, serde_json::Value, serde_json::Value); 14] = [
        // the base run's own flags: against [WB]'s setting
        ("-d", z["d"].clone(), 2.into(), wb.d.into()),
        ("-n", z["n"].clone(), 6.into(), wb.n.into()),
        ("-l", z["layers"].clone(), 1.into(), wb.layers.into()),
        ("--mrps", n["mrps"].clone(), 2.into(), wb.mrps.into()),
        ("--batch-size", n["prompts"].clone(), 4.into(), wb.prompts.into()),
        // the others: against the base run's echo
        ("--batches-per-mrp", n["minibatches"].clone(), 2.into(), dn["minibatches"].clone()),
        ("--states", z["n_states"].clone(), 5.into(), dz["n_states"].clone()),
        ("--gamma", z["gamma"].clone(), 0.5.into(), dz["gamma"].clone()),
        ("--lr", z["lr"].clone(), 0.01.into(), dz["lr"].clone()),
        ("--weight-decay", z["weight_decay"].clone(), 0.001.into(), dz["weight_decay"].clone()),
        ("--representable", z["representable"].clone(), true.into(), dz["representable"].clone()),
        ("--activation", z["activation"].clone(), "softmax".into(), dz["activation"].clone()),
        ("--env", z["env"].clone(), "loop".into(), dz["env"].clone()),
        ("--shared", z["shared_layers"].clone(), true.into(), dz["shared_layers"].clone()),
    ];
    for (flag, got, want, default) in cases {
        assert_eq!(got, want, "{flag} is read");
        assert_ne!(default, want, "{flag}: the base run must differ, or the case proves nothing");
    }
    assert_eq!(z["init_gain"], serde_json::json!(0.2), "--init-gain is read");
    // the defaults of the issue-10 options are absent from the echo (so a default report is
    // unchanged); the base run has [WB]'s |S|, γ and lr
    assert_eq!((dz["n_states"].as_u64(), dz["gamma"].as_f64(), dz["lr"].as_f64()), (Some(10), Some(0.9), Some(1e-3)));

    let sarsa = [
        "train",
        "sarsa",
        "--states",
        "4",
        "--actions",
        "3",
        "-d",
        "5",
        "-n",
        "7",
        "--epsilon",
        "0.3",
        "--gamma",
        "0.7",
        "--alpha",
        "0.5",
        "--mdps",
        "3",
        "--frames",
        "2",
    ];
    let s = run_json(&sarsa, "echo-sarsa");
    let (n, z) = (&s["numbers"], &s["numbers"]["sizes"]);
    let got = serde_json::json!([
        z["n_states"],
        z["n_actions"],
        z["d"],
        z["n"],
        z["epsilon"],
        z["gamma"],
        z["alpha"],
        n["mdps"],
        n["frames"]
    ]);
    assert_eq!(got, serde_json::json!([4, 3, 5, 7, 0.3, 0.7, 0.5, 3, 2]));
    // the small preset's values differ from every one of these
    let p = icrl_proofs::dynamics::stream::StreamPreset::small();
    let t = p.tab;
    let default = serde_json::json!([t.n_states, t.n_actions, t.d, t.n, t.epsilon, t.gamma, t.alpha, p.mdps, p.frames]);
    for (i, (a, b)) in got.as_array().unwrap().iter().zip(default.as_array().unwrap()).enumerate() {
        assert_ne!(a, b, "sarsa flag {i} equals the preset's value");
    }
}

fn seeds_run(threads: &str, name: &str) -> (Vec<serde_json::Value>, PathBuf) {
    let dir = tmpdir(name);
    let d = dir.display().to_string();
    let args =
        ["train", "td", "-d", "2", "-n", "8", "-l", "2", "--mrps", "20", "--seeds", "0..3", "--json", "--out", &d];
    let o = icrl(&args, threads);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let lines = String::from_utf8(o.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (lines, dir)
}

/// Timing keys out (they are wall-clock), everything else compared bit for bit.
fn untimed(mut v: serde_json::Value) -> serde_json::Value {
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.retain(|k, _| !["wall_seconds", "train_seconds", "us_per_frame"].contains(&k.as_str()));
                let keys: Vec<String> = m.keys().cloned().collect();
                for k in keys {
                    walk(m.get_mut(&k).unwrap());
                }
                // a summary row of a timing metric
                if m.get("metric").and_then(|x| x.as_str()).is_some_and(|s| s.ends_with("seconds")) {
                    m.clear();
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

/// `--seeds 0..3`: three seed lines in seed order, then a summary whose every mean (and sd) is
/// the mean (and sample sd) of the seed lines' values; the files are written; the output does not
/// depend on the thread count.
#[test]
fn seed_sweep_summarizes_its_seeds() {
    let (lines, dir) = seeds_run("2", "seeds");
    assert_eq!(lines.len(), 4);
    for (k, l) in lines[..3].iter().enumerate() {
        assert_eq!(l["numbers"]["seed"].as_u64(), Some(k as u64));
        assert_eq!(l["report"], "train-td");
    }
    let s = &lines[3]["summary"];
    assert_eq!(s["seeds"], serde_json::json!([0, 1, 2]));
    let per: Vec<Vec<(String, f64)>> = lines[..3].iter().map(|l| sweep_metrics(&l["numbers"])).collect();
    let metrics = s["metrics"].as_array().unwrap();
    assert_eq!(metrics.len(), per[0].len());
    assert!(metrics.iter().any(|m| m["metric"] == "structure_cosine"));
    assert!(metrics.iter().any(|m| m["metric"] == "layers[1].c_identity_cosine"));
    for (i, m) in metrics.iter().enumerate() {
        let xs: Vec<f64> = per.iter().map(|p| p[i].1).collect();
        assert_eq!(m["metric"].as_str(), Some(per[0][i].0.as_str()));
        let mean = (xs[0] + xs[1] + xs[2]) / 3.0;
        assert_eq!(m["mean"].as_f64(), Some(mean), "{m}");
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
        assert_eq!(m["sd"].as_f64(), Some(sd), "{m}");
    }
    // the seeds differ (the summary is over three runs, not one run three times)
    let sc = metrics.iter().find(|m| m["metric"] == "structure_cosine").unwrap();
    assert!(sc["sd"].as_f64().unwrap() > 0.0, "{sc}");
    for f in ["seed-0/train-td.md", "seed-2/train-td.json", "seed-1/train-td-p.svg", "train-td-seeds.md"] {
        assert!(dir.join(f).is_file(), "{f} written");
    }
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("train-td-seeds.json")).unwrap()).unwrap();
    assert_eq!(j["summary"], lines[3]["summary"]);
    assert_eq!(j["per_seed"].as_array().unwrap().len(), 3);
    let md = std::fs::read_to_string(dir.join("train-td-seeds.md")).unwrap();
    assert!(md.contains("| structure_cosine |"), "{md}");
    let _ = std::fs::remove_dir_all(&dir);
    // one thread: the same lines, bit for bit (timings aside)
    let (one, dir1) = seeds_run("1", "seeds-1");
    let _ = std::fs::remove_dir_all(&dir1);
    assert_eq!(one.into_iter().map(untimed).collect::<Vec<_>>(), lines.into_iter().map(untimed).collect::<Vec<_>>());
}

/// Each bad value, misplaced flag or unbounded size exits 2 with one `error:` line naming the
/// flag, and writes nothing.
#[test]
fn bad_values_exit_2_naming_the_flag() {
    let cases: &[(&[&str], &str)] = &[
        (&["td", "-l", "0"], "-l"),
        (&["td", "--gamma", "1.5"], "--gamma"),
        (&["td", "--gamma", "-0.1"], "--gamma"),
        (&["td", "-d", "0"], "-d"),
        (&["td", "-d", "x"], "-d"),
        (&["td", "-n", "0"], "-n"),
        (&["td", "--lr", "-0.001"], "--lr"),
        (&["td", "--lr", "NaN"], "--lr"),
        (&["td", "--weight-decay", "-1"], "--weight-decay"),
        (&["td", "--mrps", "0"], "--mrps"),
        (&["td", "--batch-size", "0"], "--batch-size"),
        (&["td", "--batches-per-mrp", "0"], "--batches-per-mrp"),
        (&["td", "--states", "1"], "--states"),
        (&["td", "--activation", "tanh"], "--activation"),
        (&["td", "--env", "cartpole"], "--env"),
        (&["td", "--seeds", "3..1"], "--seeds"),
        (&["td", "--seeds", "2..2"], "--seeds"),
        (&["td", "--seeds", "0..x"], "--seeds"),
        (&["td", "--seeds", "-1..2"], "--seeds"),
        (&["td", "--seeds", "0..=3"], "--seeds"),
        (&["td", "--seeds", "0..3", "--seed", "1"], "--seed"),
        (&["td", "--mrps", "1000000000"], "--mrps"),
        (&["td", "-n", "100000"], "-n"),
        (&["td", "--batch-size", "100000000"], "--batch-size"),
        (&["td", "--mrps", "400", "--seeds", "0..1000"], "--seeds"),
        (&["td", "--epsilon", "0.1"], "--epsilon"),
        (&["td", "--preset", "small"], "--preset"),
        (&["sarsa", "--representable"], "--representable"),
        (&["sarsa", "-l", "2"], "-l"),
        (&["sarsa", "--activation", "relu"], "--activation"),
        (&["sarsa", "--epsilon", "1.5"], "--epsilon"),
        (&["sarsa", "--gamma", "1"], "--gamma"),
        // Below 1, but the optimal return's value iteration would need 2.5·10¹⁷ sweeps.
        (&["sarsa", "--gamma", "0.9999999999999999"], "--gamma"),
        (&["sarsa", "--alpha", "0"], "--alpha"),
        (&["sarsa", "--states", "0"], "--states"),
        (&["sarsa", "--actions", "0"], "--actions"),
        (&["sarsa", "-d", "0"], "-d"),
        (&["sarsa", "--mdps", "0"], "--mdps"),
        (&["sarsa", "--frames", "0"], "--frames"),
        (&["sarsa", "--mdps", "100000000"], "--mdps"),
        (&["sarsa", "-d", "100000"], "-d"),
        (&["sarsa", "--dense"], "--dense"),
        (&["td", "--dense"], "--dense"),
        (&["softmax-td", "--states", "1"], "--states"),
        (&["softmax-td", "-l", "0"], "-l"),
        (&["softmax-td", "--batch-size", "0"], "--batch-size"),
        (&["softmax-td", "--lr", "0"], "--lr"),
        (&["softmax-td", "--gamma", "1"], "--gamma"),
        (&["softmax-td", "--mrps", "1000000000"], "--mrps"),
        (&["softmax-td", "--epsilon", "0.1"], "--epsilon"),
        (&["softmax-td", "--activation", "relu"], "--activation"),
        (&["softmax-td", "--batches-per-mrp", "0"], "--batches-per-mrp"),
        (&["softmax-td", "--weight-decay", "-1"], "--weight-decay"),
        (&["softmax-td", "--env", "loop", "--states", "1"], "--states"),
        (&["softmax-td", "--shared"], "--shared"),
        (&["softmax-td", "--preset", "small"], "--preset"),
        (&["softmax-td", "--mrps", "4000", "--seeds", "0..1000"], "--seeds"),
    ];
    for (args, flag) in cases {
        let dir = tmpdir("bad");
        let d = dir.display().to_string();
        let mut a = vec!["train"];
        a.extend_from_slice(args);
        a.extend(["--out", &d]);
        let o = icrl(&a, "2");
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert_eq!(e.lines().filter(|l| l.starts_with("error:")).count(), 1, "{args:?}: {e}");
        let first = e.lines().next().unwrap_or("");
        let named = first.contains(&format!("error: {flag}:"))
            || first.contains(&format!("'{flag} "))
            || first.contains(&format!("'{flag}'"));
        assert!(named, "{args:?} names {flag}: {e}");
        assert!(o.stdout.is_empty(), "{args:?}");
        assert!(!dir.exists(), "{args:?} wrote {}", dir.display());
    }
}

/// The hand-written backward pass of `train td` against central finite differences, for each
/// activation, on a prompt whose weights are large enough that every layer matters; and the
/// negative control: the gradient of one activation does not match another's loss.
#[test]
fn activation_gradients_match_finite_differences() {
    use train_td::Activation;
    let grad_and_fd = |act: Activation, fd_act: Activation| -> f64 {
        let mut cfg = train_td::TdConfig::wb(3);
        (cfg.minibatches, cfg.prompts, cfg.n, cfg.init_gain, cfg.activation) = (1, 2, 6, 3.0, act);
        let model = train_td::init_model(&cfg);
        let pr = &train_td::mrp_prompts(&cfg, 0)[1];
        let mut g = model.clone();
        g.set_flat(&vec![0.0; model.flat().len()]);
        let _ = train_td::prompt_loss_grad_act(&model, act, pr, &mut g);
        let vn = train_td::next_value_act(&model, act, pr); // detached target
                                                            // the target's value is the full forward pass with the next state as query
        let mut pr2 = pr.clone();
        pr2.phi_q = pr.phi_next.clone();
        assert!((vn - train_td::predict_act(&model, act, &pr2)).abs() <= 1e-12 * vn.abs().max(1.0), "{act:?}");
        let x0 = model.flat();
        let f = |x: &[f64]| {
            let mut m = model.clone();
            m.set_flat(x);
            train_td::prompt_loss_act(&m, fd_act, pr, vn)
        };
        let fd = loss::finite_difference(f, &x0, tolerance::FD_STEP);
        let an = g.flat();
        let scale = fd.iter().fold(1.0f64, |m, x| m.max(x.abs()));
        an.iter().zip(&fd).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max) / scale
    };
    for act in [Activation::Identity, Activation::Relu, Activation::Softmax] {
        let err = grad_and_fd(act, act);
        assert!(err <= tolerance::FD_REL_TOL, "{act:?} backprop vs FD: {err:e}");
    }
    // negative controls: a gradient checked against the wrong activation's loss fails
    for (a, b) in [(Activation::Relu, Activation::Identity), (Activation::Softmax, Activation::Identity)] {
        let err = grad_and_fd(a, b);
        assert!(err > 100.0 * tolerance::FD_REL_TOL, "{a:?} gradient vs {b:?} loss: {err:e}");
    }
}

/// The structure [WB]'s `MRP/loop.py` builds: stochastic rows, no self-loops, the ring edge
/// `i → i+1 mod |S|` always present, each other edge present with probability
/// `P(Unif(0.01, 0.99) > 0.5) = 0.49/0.98 = 1/2`; a Boyan chain fails the same checks.
fn loop_structure(m: &Mrp) -> Result<usize, String> {
    let ns = m.n_states();
    let mut extra = 0;
    for i in 0..ns {
        let row = m.p_row(i);
        let s: f64 = row.iter().sum();
        if s.is_nan() || (s - 1.0).abs() > 1e-12 || row.iter().any(|x| !x.is_finite() || *x < 0.0) {
            return Err(format!("row {i} sums to {s}"));
        }
        if row[i] != 0.0 {
            return Err(format!("self-loop at {i}"));
        }
        if row[(i + 1) % ns] <= 0.0 {
            return Err(format!("ring edge {i} → {} missing", (i + 1) % ns));
        }
        extra += (0..ns).filter(|&j| j != i && j != (i + 1) % ns && row[j] > 0.0).count();
    }
    let p0: f64 = m.initial().iter().sum();
    if (p0 - 1.0).abs() > 1e-12 {
        return Err(format!("p0 sums to {p0}"));
    }
    Ok(extra)
}

#[test]
fn loop_env_is_wb_loop_mrp() {
    use rand::SeedableRng;
    let (ns, draws) = (10usize, 400u64);
    let mut extra = 0;
    for k in 0..draws {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(k);
        let m = loop_mrp(&mut rng, ns, 0.9, LOOP_THRESHOLD);
        extra += loop_structure(&m).unwrap_or_else(|e| panic!("draw {k}: {e}"));
        assert!((0..ns).all(|s| m.r(s).abs() < 1.0));
        // the env dispatch draws the same MRP
        let mut rng2 = rand_chacha::ChaCha8Rng::seed_from_u64(k);
        let m2 = train_td::TdEnv::Loop.draw(&mut rng2, ns, 0.9);
        assert_eq!(format!("{m:?}"), format!("{m2:?}"));
    }
    // off-ring edges: (|S| − 2) candidates per row, each present with probability 1/2
    let cands = (draws as usize * ns * (ns - 2)) as f64;
    let frac = extra as f64 / cands;
    let sd = (0.25 / cands).sqrt();
    assert!((frac - 0.5).abs() <= 5.0 * sd, "off-ring edge fraction {frac}");
    // threshold 0.99: only the ring is left, a deterministic cycle
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let ring = loop_mrp(&mut rng, 5, 0.9, 0.99);
    assert_eq!(loop_structure(&ring), Ok(0));
    assert!((0..5).all(|i| ring.p(i, (i + 1) % 5) == 1.0));
    // negative control: a Boyan chain is not a loop (its dense last row has a self-loop)
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
    assert!(loop_structure(&boyan_chain(&mut rng, ns, 0.9)).is_err());
}

/// `--env loop --representable` trains: the held-out value is then exactly representable, so
/// the construction's and the model's errors are finite and the run reports the options.
#[test]
fn loop_and_representable_runs_end_to_end() {
    let v = run_json(
        &[
            "train",
            "td",
            "-d",
            "3",
            "-n",
            "10",
            "--mrps",
            "10",
            "--env",
            "loop",
            "--representable",
            "--activation",
            "relu",
        ],
        "loop-run",
    );
    let n = &v["numbers"];
    assert_eq!(n["sizes"]["env"], "loop");
    for k in ["heldout_msve_model", "heldout_msve_construction", "heldout_msve_zero", "loss_last"] {
        assert!(n[k].as_f64().is_some_and(f64::is_finite), "{k}: {}", n[k]);
    }
}
