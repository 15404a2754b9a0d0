//! The `oent` binary: all behaviour lives in the library; see `cli/`.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
