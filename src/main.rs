//! `icrl`: a thin binary over [`icrl_proofs::cli`].
fn main() {
    let code = icrl_proofs::cli::main(std::env::args_os());
    std::process::exit(code);
}
