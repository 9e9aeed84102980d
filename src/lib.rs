//! guestissuer: vends Webex guest credentials to web front ends.
//!
//! A request enters through [`startup`], which builds the router from
//! [`routes`] with the [`middleware`], [`cors`] and [`limits`]. Guest routes
//! take their caller from [`auth`] and charge [`rate_limit`], then reach
//! Webex through a [`webex::GuestBackend`]. [`emulator`] replaces Webex in development
//! and tests.

/// Caller authentication modes and the guest identity each caller may get.
pub mod auth;
/// Command line: `serve`, `emulate`, `keygen`.
pub mod cli;
/// Layered configuration and its validation.
pub mod config;
/// CORS for browser callers.
pub mod cors;
/// Built-in Webex emulator.
pub mod emulator;
/// HTTP error type rendered as problem+json.
pub mod error;
/// Validated guest identity and lifetime.
pub mod guest;
/// Guest JWT minting, verification and inspection.
pub mod guest_token;
/// Request size, time and concurrency limits.
pub mod limits;
/// Prometheus metric names and recording functions.
pub mod metrics;
/// Request ids, request logging and request metrics.
pub mod middleware;
/// Rate limits per client IP, per caller and for Webex calls.
pub mod rate_limit;
/// Readiness checks behind `GET /readyz`.
pub mod readiness;
/// HTTP routes.
pub mod routes;
/// Serving: listeners, the metrics listener and graceful shutdown.
pub mod server;
/// Application assembly.
pub mod startup;
/// Log output.
pub mod telemetry;
/// Webex API client and back ends.
pub mod webex;
