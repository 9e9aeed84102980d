//! `serve` runs the HTTP service and `emulate` runs the Webex emulator
//! alone, both until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::config::{LogFormat, Settings};
use crate::startup::Application;
use crate::{emulator, telemetry};

#[derive(Debug, Args)]
struct ConfigArgs {
    /// Configuration file layered over the built-in defaults.
    #[arg(
        long,
        env = "GUESTISSUER_CONFIG",
        value_name = "FILE",
        hide_env_values = true
    )]
    config: Option<PathBuf>,
    /// Log format; overrides log.format.
    #[arg(long, value_enum, value_name = "FORMAT")]
    log_format: Option<LogFormat>,
}

#[derive(Debug, Args)]
#[command(after_help = concat!(
    "Examples:
  guestissuer serve
  GUESTISSUER__WEBEX__BASE_URL=https://webexapis.com/v1 guestissuer serve --config prod.toml

",
    super::exit_codes_help!()
))]
pub struct ServeArgs {
    #[command(flatten)]
    config: ConfigArgs,
}

#[derive(Debug, Args)]
#[command(after_help = concat!(
    "The log line \"emulator listening\" carries the base URL to pass to --base-url.

Examples:
  guestissuer emulate
  guestissuer emulate --listen 127.0.0.1:0 --log-format pretty

",
    super::exit_codes_help!()
))]
pub struct EmulateArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Address to listen on; overrides emulator.listen.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
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

pub async fn serve(args: ServeArgs) -> u8 {
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

pub async fn emulate(args: EmulateArgs) -> u8 {
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
    let setup = emulator::EmulatorSetup {
        issuers: settings.emulator.issuers.clone(),
        service_apps: vec![settings.emulator.service_app.clone()],
        faults: settings.emulator.faults.clone(),
    };
    let running = match emulator::spawn_with(listener, setup) {
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
