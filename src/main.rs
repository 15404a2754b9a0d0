//! The `oent` binary: all behaviour lives in the library; see `cli/`.

mod cli;

fn main() -> std::process::ExitCode {
    // Like every Unix filter: `oent … | head` ends quietly when the reader
    // stops reading, instead of panicking on a broken pipe.
    // SAFETY: called first in main, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    cli::main()
}
