//! The `kreg` binary: parse, run, exit. Everything else is in the library.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(kreg::commands::main())
}
