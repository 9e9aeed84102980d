use std::process::ExitCode;

fn main() -> ExitCode {
    guestissuer::cli::main()
}
