//! `guestissuer healthcheck`: sends `GET /healthz` to the running service
//! (or, with `--emulator`, to the standalone emulator) on its configured
//! address, for a container `HEALTHCHECK` in an image without a shell or
//! curl.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::config::Settings;

/// Arguments of `guestissuer healthcheck`.
#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// Configuration file layered over the built-in defaults.
    #[arg(
        long,
        env = "GUESTISSUER_CONFIG",
        value_name = "FILE",
        hide_env_values = true
    )]
    config: Option<PathBuf>,
    /// Check the emulator on emulator.listen instead of the service on
    /// server.listen.
    #[arg(long)]
    emulator: bool,
    /// Time allowed for the whole check, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 3000,
          value_parser = clap::value_parser!(u64).range(1..=60_000))]
    timeout_ms: u64,
}

/// Exits 0 when `/healthz` returns `200`, 1 when it does not, and 2 when
/// the configuration is invalid; the reason goes to stderr.
pub async fn run(args: HealthcheckArgs) -> u8 {
    let settings = match Settings::load(args.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_USAGE;
        }
    };
    let listen = if args.emulator {
        settings.emulator.listen
    } else {
        settings.server.listen
    };
    let url = format!("http://{}/healthz", dialable(listen));
    match probe(&url, Duration::from_millis(args.timeout_ms)).await {
        Ok(()) => EXIT_OK,
        Err(reason) => {
            eprintln!("unhealthy: GET {url}: {reason}");
            EXIT_FAILED
        }
    }
}

/// Replaces an unspecified listen address (0.0.0.0 or ::) with the
/// loopback address of the same family, which reaches the same socket.
fn dialable(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

async fn probe(url: &str, timeout: Duration) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .no_proxy()
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let response = client.get(url).send().await.map_err(|e| {
        if e.is_timeout() {
            format!("no answer within {} ms", timeout.as_millis())
        } else {
            "connection failed; is the server running on this address?".to_owned()
        }
    })?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("status {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialable_replaces_unspecified_addresses() {
        let cases = [
            ("0.0.0.0:8080", "127.0.0.1:8080"),
            ("[::]:9000", "[::1]:9000"),
            ("10.1.2.3:80", "10.1.2.3:80"),
            ("127.0.0.1:8081", "127.0.0.1:8081"),
        ];
        for (listen, expected) in cases {
            let listen: SocketAddr = listen.parse().unwrap();
            assert_eq!(dialable(listen).to_string(), expected, "{listen}");
        }
    }
}
