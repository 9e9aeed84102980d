use serde_json::{Value, json};

use crate::helpers::spawn_app;

#[tokio::test]
async fn mint_login_whoami_round_trip() {
    let app = spawn_app().await;

    let response = app
        .post_json(
            "/guests",
            &json!({ "userId": "guest-7", "userName": "Ada Lovelace", "expiresIn": 600 }),
        )
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let minted: Value = response.json().await.unwrap();
    assert_eq!(minted["userId"], "guest-7");
    assert_eq!(minted["userName"], "Ada Lovelace");
    assert_eq!(minted["expiresIn"], 600);
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(minted["expiresAt"].as_str().unwrap()).unwrap();
    let lifetime = expires_at.timestamp() - chrono::Utc::now().timestamp();
    assert!(
        (595..=601).contains(&lifetime),
        "expiresAt is 600 s ahead, got {lifetime}"
    );
    assert!(minted["expiresAt"].as_str().unwrap().ends_with('Z'));

    let response = app
        .post_json("/guests/login", &json!({ "token": minted["token"] }))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let login: Value = response.json().await.unwrap();
    assert_eq!(login["userId"], "guest-7");
    assert_eq!(login["expiresIn"], 21600);
    assert!(login["expiresAt"].is_string());
    let access_token = login["accessToken"].as_str().unwrap();

    let response = app
        .client
        .get(app.url("/whoami"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let person: Value = response.json().await.unwrap();
    assert_eq!(person["displayName"], "Ada Lovelace");
    assert_eq!(person["type"], "appuser");
    assert_eq!(
        person["emails"][0],
        "guest-7@6f1c2a4e-8b3d-4c7a-9e5f-2d1b0a9c8e7f"
    );
    assert!(person["id"].is_string());
    assert!(person["created"].is_string());
}

#[tokio::test]
async fn login_with_identity_skips_the_jwt() {
    let app = spawn_app().await;

    let response = app
        .post_json(
            "/guests/login",
            &json!({ "userId": "walk-in-1", "userName": "Visitor" }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let login: Value = response.json().await.unwrap();
    assert_eq!(login["userId"], "walk-in-1");
    assert!(login.get("token").is_none());

    let person = app.whoami(login["accessToken"].as_str().unwrap()).await;
    assert_eq!(person["displayName"], "Visitor");
    assert_eq!(
        person["emails"][0],
        "walk-in-1@6f1c2a4e-8b3d-4c7a-9e5f-2d1b0a9c8e7f"
    );
}

#[tokio::test]
async fn same_user_id_is_same_person() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for name in ["First Name", "Second Name"] {
        let login: Value = app
            .post_json(
                "/guests/login",
                &json!({ "userId": "returning", "userName": name }),
            )
            .await
            .json()
            .await
            .unwrap();
        let person = app.whoami(login["accessToken"].as_str().unwrap()).await;
        assert_eq!(person["displayName"], name);
        ids.push(person["id"].clone());
    }
    assert_eq!(ids[0], ids[1]);
}

#[tokio::test]
async fn request_id_is_echoed_or_generated() {
    let app = spawn_app().await;

    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-abc-123");

    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    let generated = response.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(generated.len(), 36, "a UUID is generated: {generated}");

    let response = app
        .client
        .get(app.url("/nowhere"))
        .header("x-request-id", "req-404")
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["requestId"], "req-404");
}
