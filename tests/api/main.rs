//! Black-box tests of the HTTP service against the built-in emulator.

mod config;
mod errors;
mod flow;
mod helpers;
mod resilience;
mod upstream;
mod vectors;
