//! One integration-test binary, one module per theorem family (mirroring `src/`), so that
//! `cargo test --release` links the library into one test executable instead of thirteen
//! (the link step under thin LTO dominated the build). Run one family with
//! `cargo test --release --test all -- sarsa::`.

mod actor_critic;
mod cli;
mod common;
mod contraction;
mod dynamics;
mod dynamics_reports;
mod fixtures;
mod linear_td;
mod mdp;
mod neu;
mod reports;
mod sarsa;
mod softmax_td;
