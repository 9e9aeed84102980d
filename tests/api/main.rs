//! Black-box tests of the HTTP service against the built-in emulator.

mod auth_anonymous;
mod auth_api_key;
mod auth_jwt;
mod config;
mod config_docs;
mod cors;
mod errors;
mod flow;
mod helpers;
mod production_config;
mod rate_limits;
mod readiness;
mod request_limits;
mod resilience;
mod secure_config;
mod service_app;
mod service_app_emulator;
mod service_app_state;
mod upstream;
mod vectors;
