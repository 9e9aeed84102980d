//! Mode `anonymous`: public pages get guests with generated ids.

use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app_with};

async fn spawn_anonymous_app(extra: &[(&str, &str)]) -> TestApp {
    let mut overrides = vec![("GUESTISSUER__AUTH__MODE", "anonymous")];
    overrides.extend_from_slice(extra);
    spawn_app_with(&overrides).await
}

fn generated_uuid(user_id: &str) -> uuid::Uuid {
    let suffix = user_id
        .strip_prefix("anon-")
        .unwrap_or_else(|| panic!("{user_id} starts with the prefix"));
    uuid::Uuid::parse_str(suffix).expect("a UUID follows the prefix")
}

#[tokio::test]
async fn login_generates_user_id() {
    let app = spawn_anonymous_app(&[]).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let response = app.post_json("/guests/login", &json!({})).await;
        assert_eq!(response.status(), 200);
        let login: Value = response.json().await.unwrap();
        let user_id = login["userId"].as_str().unwrap().to_owned();
        assert_eq!(generated_uuid(&user_id).get_version_num(), 4);
        ids.push(user_id);
    }
    assert_ne!(ids[0], ids[1], "each visitor is a new guest");
}

#[tokio::test]
async fn login_takes_optional_user_name() {
    let app =
        spawn_anonymous_app(&[("GUESTISSUER__AUTH__ANONYMOUS__DEFAULT_USER_NAME", "Visitor")])
            .await;
    for (body, expected) in [
        (json!({ "userName": "Grace" }), "Grace"),
        (json!({}), "Visitor"),
    ] {
        let login: Value = app
            .post_json("/guests/login", &body)
            .await
            .json()
            .await
            .unwrap();
        let person = app.whoami(login["accessToken"].as_str().unwrap()).await;
        assert_eq!(person["displayName"], expected);
    }
}

#[tokio::test]
async fn body_user_id_is_403() {
    let app = spawn_anonymous_app(&[]).await;
    let response = app
        .post_json(
            "/guests/login",
            &json!({ "userId": "ceo", "userName": "CEO" }),
        )
        .await;
    let body = problem(response, 403).await;
    assert_eq!(body["rule"], "anonymousUserId");
}

#[tokio::test]
async fn mint_is_off_by_default() {
    let app = spawn_anonymous_app(&[]).await;
    let response = app.post_json("/guests", &json!({})).await;
    let body = problem(response, 403).await;
    assert_eq!(body["rule"], "anonymousMint");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("auth.anonymous.allow_mint")
    );
}

#[tokio::test]
async fn mint_when_enabled() {
    let app = spawn_anonymous_app(&[
        ("GUESTISSUER__AUTH__ANONYMOUS__ALLOW_MINT", "true"),
        ("GUESTISSUER__AUTH__ANONYMOUS__USER_ID_PREFIX", "chat-"),
    ])
    .await;
    let response = app
        .post_json("/guests", &json!({ "userName": "Lin" }))
        .await;
    assert_eq!(response.status(), 201);
    let minted: Value = response.json().await.unwrap();
    assert!(minted["userId"].as_str().unwrap().starts_with("chat-"));
    assert_eq!(minted["userName"], "Lin");

    let response = app
        .post_json("/guests/login", &json!({ "token": minted["token"] }))
        .await;
    assert_eq!(response.status(), 200, "its own guest JWT can be exchanged");
}
