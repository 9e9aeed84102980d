//! Black-box tests of the HTTP service against the built-in emulator.

mod config;
mod errors;
mod flow;
mod helpers;
mod resilience;
mod service_app;
mod service_app_emulator;
mod service_app_state;
mod upstream;
mod vectors;
