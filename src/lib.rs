//! guestissuer: vends Webex guest credentials to web front ends.
//!
//! A request enters through [`startup`], which builds the router from
//! [`routes`] with the [`middleware`], and reaches Webex through a
//! [`webex::GuestBackend`]. [`emulator`] stands in for Webex in development
//! and tests.

/// Command line: `serve`, `emulate`.
pub mod cli;
/// Layered configuration and its validation.
pub mod config;
/// Built-in Webex emulator.
pub mod emulator;
/// HTTP error type rendered as problem+json.
pub mod error;
/// Validated guest identity and lifetime.
pub mod guest;
/// Guest JWT minting, verification and inspection.
pub mod guest_token;
/// Request ids and request logging.
pub mod middleware;
/// Readiness checks behind `GET /readyz`.
pub mod readiness;
/// HTTP routes.
pub mod routes;
/// Application assembly and listener.
pub mod startup;
/// Log output.
pub mod telemetry;
/// Webex API client and back ends.
pub mod webex;
