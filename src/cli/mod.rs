//! The command line: `serve` runs the HTTP service, `emulate` runs the
//! Webex emulator alone.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::{LogFormat, Settings};
use crate::startup::Application;
use crate::{emulator, telemetry};

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code for an operation that failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit code for invalid usage or input, including invalid configuration.
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "guestissuer",
    version,
    about = "Webex guest credentials: HTTP service and command-line tool"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service.
    Serve(ServeArgs),
    /// Run the built-in Webex emulator alone.
    Emulate(EmulateArgs),
}

#[derive(Debug, Args)]
struct ConfigArgs {
    /// Configuration file layered over the built-in defaults.
    #[arg(long, env = "GUESTISSUER_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Log format; overrides log.format.
    #[arg(long, value_enum, value_name = "FORMAT")]
    log_format: Option<LogFormat>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    config: ConfigArgs,
}

#[derive(Debug, Args)]
struct EmulateArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Address to listen on; overrides emulator.listen.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
}

/// Parses the process arguments and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let code = match cli.command {
        Command::Serve(args) => runtime.block_on(serve(args)),
        Command::Emulate(args) => runtime.block_on(emulate(args)),
    };
    ExitCode::from(code)
}

/// Loads settings and installs logging, or prints the one-line reason.
fn load(args: &ConfigArgs) -> Result<Settings, u8> {
    let mut settings = Settings::load(args.config.as_deref()).map_err(|error| {
        eprintln!("error: {error}");
        EXIT_USAGE
    })?;
    if let Some(format) = args.log_format {
        settings.log.format = format;
    }
    telemetry::init(settings.log.format, &settings.log.level, std::io::stdout);
    Ok(settings)
}

async fn serve(args: ServeArgs) -> u8 {
    let settings = match load(&args.config) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let application = match Application::build(settings).await {
        Ok(application) => application,
        Err(error) => {
            tracing::error!(%error, "start-up failed");
            eprintln!("error: {error}");
            return EXIT_FAILED;
        }
    };
    match application.run_until(shutdown_signal()).await {
        Ok(()) => {
            tracing::info!("stopped");
            EXIT_OK
        }
        Err(error) => {
            tracing::error!(%error, "server failed");
            EXIT_FAILED
        }
    }
}

async fn emulate(args: EmulateArgs) -> u8 {
    let settings = match load(&args.config) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let addr = args.listen.unwrap_or(settings.emulator.listen);
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("error: cannot listen on {addr} (emulator.listen): {error}");
            return EXIT_FAILED;
        }
    };
    let issuers = settings.emulator.issuers.clone();
    let faults = settings.emulator.faults.clone();
    let running = match emulator::spawn_with_faults(listener, issuers, faults) {
        Ok(running) => running,
        Err(error) => {
            eprintln!("error: cannot start the emulator: {error}");
            return EXIT_FAILED;
        }
    };
    tracing::info!(base_url = %running.base_url(), "emulator listening");
    shutdown_signal().await;
    tracing::info!("emulator stopped");
    EXIT_OK
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!(signal = "SIGINT", "shutting down"),
        () = terminate => tracing::info!(signal = "SIGTERM", "shutting down"),
    }
}
