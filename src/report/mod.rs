//! `icrl report`: tables and plots that summarize a theorem family's measured behaviour
//! (fixed seeds, rounded numbers; the tables are snapshotted in the tests).

pub mod decay;
