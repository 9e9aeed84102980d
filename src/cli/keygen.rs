//! `guestissuer keygen`: creates an API key for a site back end.

use clap::Args;
use secrecy::ExposeSecret;

use super::{EXIT_OK, EXIT_USAGE};
use crate::auth::{generate_key, hash_key};

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Client name of the key, shown in logs and used as its rate-limit key.
    #[arg(long, default_value = "site-backend", value_name = "NAME")]
    client: String,
}

/// Prints a new key alone to stdout, and to stderr the `[[auth.api_keys]]`
/// entry with its SHA-256, so `keygen > key.txt` stores only the key.
pub fn run(args: KeygenArgs) -> u8 {
    let client = args.client.trim();
    if client.is_empty() || client.chars().any(|c| c.is_control() || c.is_whitespace()) {
        eprintln!("error: --client must be a non-empty name without spaces, such as shop-backend");
        return EXIT_USAGE;
    }
    let key = generate_key();
    println!("{}", key.expose_secret());
    eprintln!("{}", config_entry(client, &hash_key(key.expose_secret())));
    EXIT_OK
}

/// Formats the configuration entry for a client and its key hash.
pub fn config_entry(client: &str, sha256: &str) -> String {
    format!(
        "# Give the key on stdout to the client; add this entry to the configuration:\n\
         [[auth.api_keys]]\n\
         client = \"{client}\"\n\
         sha256 = \"{sha256}\"\n\
         # user_id_pattern = \"{client}-[0-9a-f-]+\"\n\
         # max_expires_in = 3600"
    )
}
