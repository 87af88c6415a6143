//! `icrl report`: tables and figures that summarize a theorem family's measured behaviour
//! (fixed seeds, rounded numbers; the tables are snapshotted in the tests).
//!
//! Every report (and `icrl train`) produces one [`Output`]: a Markdown page `NAME.md`, its
//! numbers `NAME.json` (with every figure's data under `figures`), and per figure `FIG.svg` +
//! `FIG.csv` drawn by [`plot`] in the house style. The verdict (exit code) comes from the
//! numbers ([`Output::holds`]), never from the text.

pub mod actor_critic;
pub mod decay;
pub mod dynamics;
pub mod neu;
pub mod plot;
pub mod train;

use crate::error::InputError;
use std::path::{Path, PathBuf};

pub use crate::fsutil::ensure_dir;

/// Write `text` to `dir/name` atomically (temporary file + rename, see [`crate::fsutil`]; an
/// error names `--out`); returns the path. A report directory holds generated files, so an
/// existing file is replaced; a symbolic link at the path is refused.
pub fn write_text(dir: &Path, name: &str, text: &str) -> Result<PathBuf, InputError> {
    let p = dir.join(name);
    crate::fsutil::write_atomic(&p, text.as_bytes(), true)?;
    Ok(p)
}

/// What one report computed: its page, its numbers, its figures and its verdict.
#[derive(Clone, Debug)]
pub struct Output {
    /// File stem (`decay`, `train-sarsa`, …).
    pub name: String,
    /// One-line summary for `index.md`.
    pub summary: String,
    /// The Markdown page (printed to stdout; snapshotted).
    pub markdown: String,
    /// The numbers behind the page (without the figures' data, which [`Output::to_json`] adds).
    pub numbers: serde_json::Value,
    /// The figures.
    pub figures: Vec<plot::Figure>,
    /// `Some(verdict)` for a report that checks a claim, decided from its numbers; `None` for a
    /// report that only measures (exit 0).
    pub holds: Option<bool>,
}

impl Output {
    /// The JSON `NAME.json` holds and `--json` prints: `{report, holds, numbers, figures}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "report": self.name,
            "holds": self.holds,
            "numbers": self.numbers,
            "figures": self.figures.iter().map(plot::Figure::to_json).collect::<Vec<_>>(),
        })
    }

    /// Write `NAME.md`, `NAME.json` and every figure's `.svg` + `.csv` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, InputError> {
        ensure_dir(dir)?;
        let mut paths = vec![
            write_text(dir, &format!("{}.md", self.name), &self.page())?,
            write_text(
                dir,
                &format!("{}.json", self.name),
                &serde_json::to_string_pretty(&self.to_json()).expect("serializable"),
            )?,
        ];
        for f in &self.figures {
            paths.extend(f.write(dir)?);
        }
        Ok(paths)
    }

    /// The page written to `NAME.md`: the Markdown with the figures embedded below it.
    pub fn page(&self) -> String {
        let mut s = self.markdown.clone();
        if !self.figures.is_empty() {
            s.push_str("\n## Figures\n\n");
            for f in &self.figures {
                s.push_str(&format!("![{0}]({0}.svg)\n\ndata: [{0}.csv]({0}.csv)\n\n", f.name));
            }
        }
        s
    }

    /// Exit code: 1 when the report checks a claim and its numbers violate it, else 0.
    pub fn exit_code(&self) -> i32 {
        if self.holds == Some(false) {
            crate::error::EXIT_FAIL
        } else {
            crate::error::EXIT_OK
        }
    }
}

/// Every report at `seed`, in index order (`icrl report all`).
pub fn all(seed: u64) -> Result<Vec<Output>, InputError> {
    Ok(vec![
        actor_critic::run(seed),
        dynamics::flow(seed)?,
        dynamics::emergence(seed)?,
        decay::run(seed),
        neu::run(seed),
    ])
}

/// `index.md` of `report all`: one row per report with its verdict, summary and files.
pub fn index(outputs: &[Output], seed: u64) -> String {
    let mut s = format!(
        "# icrl reports (seed {seed})\n\nOne row per report: its verdict (from its numbers; `measured` = a report that asserts nothing), what it shows, and its files. Each figure has its data as CSV beside it; each page's numbers are in its `.json`.\n\n| report | verdict | summary | files |\n|:---|:---|:---|:---|\n"
    );
    for o in outputs {
        let verdict = match o.holds {
            Some(true) => "holds",
            Some(false) => "FAILS",
            None => "measured",
        };
        let mut files = vec![format!("[{0}.md]({0}.md)", o.name), format!("[{0}.json]({0}.json)", o.name)];
        for f in &o.figures {
            files.push(format!("[{0}.svg]({0}.svg) ([csv]({0}.csv))", f.name));
        }
        s.push_str(&format!("| [{n}]({n}.md) | {verdict} | {} | {} |\n", o.summary, files.join(", "), n = o.name));
    }
    s
}
