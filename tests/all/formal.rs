//! The registry's `formal` field against `proofs/coq/`: every named lemma exists in its file as
//! a `Theorem` or `Lemma`, `proofs/coq/All.v` prints its assumptions (so `proofs/coq/check.sh`,
//! which CI runs, sees it closed), and the theorem's `proofs/` page names it. Building the proofs
//! is CI's job (`proofs/coq/check.sh`); this test keeps the registry and the files in step.

use icrl_proofs::theorem::{registry, Formal};
use std::path::Path;

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn every_named_lemma_exists_is_printed_and_is_linked() {
    let all = read("proofs/coq/All.v");
    let mut named = 0;
    for t in registry() {
        let Some((file, lemma)) = t.formal.lemma() else { continue };
        named += 1;
        let text = read(&format!("proofs/coq/{file}"));
        let declared = text.lines().any(|l| {
            let l = l.trim_start();
            ["Theorem ", "Lemma "].iter().any(|k| {
                l.strip_prefix(k).is_some_and(|rest| {
                    rest.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '\'')).next() == Some(lemma)
                })
            })
        });
        assert!(declared, "{}: no Theorem/Lemma {lemma} in proofs/coq/{file}", t.id);
        assert!(all.contains(&format!("Print Assumptions {lemma}.")), "{}: All.v does not print {lemma}", t.id);
        assert!(read(t.proof_page).contains(lemma), "{}: {} does not name {lemma}", t.id, t.proof_page);
    }
    assert!(named >= 10, "only {named} theorems have a formal proof");
}

#[test]
fn every_theorem_says_where_its_proof_is_or_why_not() {
    for t in registry() {
        match t.formal {
            Formal::None(why) | Formal::Partial(_, _, why) => assert!(why.len() > 10, "{}: give the reason", t.id),
            Formal::Proved(f, l) => assert!(f.ends_with(".v") && !l.is_empty(), "{}", t.id),
        }
        assert!(t.formal.describe().len() > 5);
    }
}
