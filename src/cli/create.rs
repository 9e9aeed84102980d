//! `guestissuer [create] <userId> <userName> -i .. -s .. [-d seconds]`:
//! mints a guest JWT exactly as `POST /guests` does and prints it.

use clap::Args;
use secrecy::ExposeSecret;
use serde_json::json;

use super::input::{IssuerArgs, expires_in, guest_identity, shorten};
use super::{CliError, CommonArgs, Output};
use crate::config::DEMO_ISSUER_ID;
use crate::routes::rfc3339;
use crate::webex::mint_guest_jwt;

#[derive(Debug, Args)]
#[command(after_help = concat!(
    "Prints the guest JWT alone on stdout. `create` is the default command, so it can be left out.

Examples:
  guestissuer create 123 \"Jane Doe\" -i \"$ISSUER_ID\" -s \"$ISSUER_SECRET\" -d 3600
  ISSUER=\"$ISSUER_ID\" SECRET=\"$ISSUER_SECRET\" guestissuer 123 \"Jane Doe\"

",
    super::exit_codes_help!()
))]
pub struct CreateArgs {
    /// Stable guest id, the `sub` claim: the same id is the same Webex guest
    #[arg(value_name = "USER_ID")]
    user_id: String,
    /// Display name of the guest, the `name` claim
    #[arg(value_name = "USER_NAME")]
    user_name: String,
    /// Lifetime of the guest JWT in seconds, from guests.min_expires_in (60) to guests.max_expires_in (86400) [env: EXPIRES] [default: 5400]
    #[arg(
        short = 'd',
        long = "delay",
        visible_alias = "expires-in",
        value_name = "SECONDS",
        allow_negative_numbers = true
    )]
    delay: Option<String>,
    #[command(flatten)]
    issuer: IssuerArgs,
    #[command(flatten)]
    common: CommonArgs,
}

/// Runs `create` and returns the exit code.
pub fn run(args: CreateArgs) -> u8 {
    let output = args.common.output();
    output.finish(create(&args, &output))
}

fn create(args: &CreateArgs, output: &Output) -> Result<(), CliError> {
    let settings = args.common.settings(output)?;
    let issuer = args.issuer.resolve(output)?;
    let limits = &settings.guests;
    let (user_id, user_name) = guest_identity(&args.user_id, &args.user_name, limits)?;
    let lifetime = expires_in(args.delay.clone(), limits, output)?;
    if issuer.id == DEMO_ISSUER_ID {
        output.step("the issuer is the public demo issuer: only the emulator accepts its tokens");
    }

    let minted = mint_guest_jwt(&issuer, &user_id, &user_name, lifetime.seconds());
    let token = minted.token.expose_secret();
    let expires_at = rfc3339(minted.exp);
    output.step(format!(
        "signed guest JWT {} for {:?} ({:?}), valid until {expires_at}",
        shorten(token),
        user_id.as_str(),
        user_name.as_str()
    ));

    if !output.is_json() {
        return output.result_line(token);
    }
    output.result_json(&json!({
        "token": token,
        "userId": user_id.as_str(),
        "userName": user_name.as_str(),
        "expiresIn": lifetime.seconds(),
        "expiresAt": expires_at,
    }))
}
