//! Black-box tests of the command line: each test runs the real binary,
//! with Webex calls going to an emulator the test starts on loopback.

mod cli {
    pub mod argv_order;
    pub mod create;
    pub mod docs;
    pub mod emulate;
    pub mod help;
    pub mod keygen;
    pub mod login;
    pub mod quick;
    pub mod rejections;
    pub mod service_app;
    pub mod support;
    pub mod verify;
}
