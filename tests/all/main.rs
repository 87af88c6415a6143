//! One integration-test binary, one module per theorem family (mirroring `src/`), so that
//! `cargo test --release` links the library into one test executable instead of thirteen
//! (the link step under thin LTO dominated the build). Run one family with
//! `cargo test --release --test all -- sarsa::`.

mod actor_critic;
mod average_reward;
mod cli;
mod common;
mod contraction;
mod dynamics;
mod dynamics_reports;
mod errbound;
mod examples;
mod field;
mod fixtures;
mod formal;
mod fuzz;
mod linear_td;
mod mdp;
mod neu;
mod npz;
mod probe;
mod rates;
mod reference_cases;
mod registry;
mod reports;
mod sarsa;
mod schema;
mod search_shard;
mod shard;
mod softmax_errbound;
mod softmax_td;
mod speed;
mod train_fast;
mod train_flags;
mod train_softmax;
mod writes;
