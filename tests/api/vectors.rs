//! The reference vectors: their tokens verify with our code, and our code
//! mints the same tokens for the same inputs.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use guestissuer::guest_token::{self, FormatError, GuestClaims, IssuerSecret};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{VECTOR_ISSUER, VECTOR_SECRET, spawn_app_with, vectors};

fn claims_of(vector: &Value) -> GuestClaims {
    GuestClaims {
        sub: vector["sub"].as_str().unwrap().to_owned(),
        name: vector["name"].as_str().unwrap().to_owned(),
        iss: vector["issuer"].as_str().unwrap().to_owned(),
        exp: vector["exp"].as_i64().unwrap(),
    }
}

/// Checks an HS256 signature with the hmac crate alone, independent of the
/// JWT library the service uses.
fn independent_hs256_valid(token: &str, secret_base64: &str) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret_base64)
        .unwrap();
    let (signing_input, signature) = token.rsplit_once('.').unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(signing_input.as_bytes());
    mac.verify_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap())
        .is_ok()
}

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[test]
fn reference_tokens_verify_and_read_back() {
    for vector in vectors() {
        let secret = IssuerSecret::from_base64(vector["secret_base64"].as_str().unwrap()).unwrap();
        let token = vector["token"].as_str().unwrap();
        let claims =
            guest_token::check_signature(token, &secret).expect("reference token verifies");
        assert_eq!(claims["sub"], vector["sub"]);
        assert_eq!(claims["name"], vector["name"]);
        assert_eq!(claims["iss"], vector["issuer"]);
        assert_eq!(claims["exp"], vector["exp"]);
        assert!(claims.get("iat").is_none());
    }
}

#[test]
fn minting_reproduces_reference_tokens_exactly() {
    for vector in vectors() {
        let secret = IssuerSecret::from_base64(vector["secret_base64"].as_str().unwrap()).unwrap();
        let minted = guest_token::mint(&claims_of(&vector), &secret);
        assert_eq!(
            minted,
            vector["token"].as_str().unwrap(),
            "vector {}",
            vector["sub"]
        );
    }
}

#[test]
fn reference_token_rejected_under_other_secret() {
    let other = IssuerSecret::from_base64("c2VjcmV0").unwrap();
    let token = vectors()[1]["token"].as_str().unwrap().to_owned();
    assert!(guest_token::check_signature(&token, &other).is_err());
}

#[test]
fn documented_token_with_stray_space_is_rejected() {
    let token = vectors()[0]["token"].as_str().unwrap().to_owned();
    let payload_start = token.find('.').unwrap() + 1;
    let broken = format!(
        "{} {}",
        &token[..payload_start + 10],
        &token[payload_start + 10..]
    );
    let error = guest_token::inspect(&broken).unwrap_err();
    assert_eq!(error, FormatError::Whitespace(payload_start + 11));
    assert!(error.to_string().contains("whitespace at character"));
}

#[tokio::test]
async fn service_mints_tokens_an_independent_hs256_accepts() {
    let app = spawn_app_with(&[
        ("GUESTISSUER__ISSUER__ID", VECTOR_ISSUER),
        ("GUESTISSUER__ISSUER__SECRET", VECTOR_SECRET),
    ])
    .await;
    for vector in vectors() {
        let name = vector["name"].as_str().unwrap();
        let response = app
            .post_json(
                "/guests",
                &json!({ "userId": vector["sub"], "userName": name, "expiresIn": 3600 }),
            )
            .await;
        if name.contains('\t') {
            assert_eq!(response.status(), 422, "control characters are rejected");
            continue;
        }
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        let token = body["token"].as_str().unwrap();

        assert!(independent_hs256_valid(token, VECTOR_SECRET));
        assert_eq!(
            decode_part(token, 0),
            json!({ "alg": "HS256", "typ": "JWT" })
        );
        assert!(token.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."));
        let claims = decode_part(token, 1);
        assert_eq!(claims["sub"], vector["sub"]);
        assert_eq!(claims["name"], vector["name"]);
        assert_eq!(claims["iss"], VECTOR_ISSUER);
        assert!(claims["exp"].is_i64());
        assert_eq!(
            claims.as_object().unwrap().len(),
            4,
            "only sub, name, iss, exp"
        );
    }
}

#[tokio::test]
async fn reference_token_exchanges_at_emulator() {
    let app = spawn_app_with(&[
        ("GUESTISSUER__ISSUER__ID", VECTOR_ISSUER),
        ("GUESTISSUER__ISSUER__SECRET", VECTOR_SECRET),
    ])
    .await;
    let token = vectors()[1]["token"].as_str().unwrap().to_owned();
    let response = app
        .post_json("/guests/login", &json!({ "token": token }))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["userId"], "guest-42");
}
