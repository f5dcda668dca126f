//! Who may call the OneRoster simulator over real HTTP: OAuth 1.0a signatures (and
//! each refusal), the OAuth 2 token flow, and discovery of our tenant's server.

mod common;

use common::oneroster::*;
use common::send;
use rostersync_sim::oneroster::oauth::{encode, SignatureMethod};

#[tokio::test]
async fn oneroster_a_signed_request_passes_and_bad_signatures_are_refused() {
    let sim = default_sim().await;
    let target = format!(
        "{V11}/users?{}",
        query(&[("limit", "5"), ("filter", "role='student'")])
    );
    let ok = signed_get(&sim, &target).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ids(&ok.json(), "users").len(), 5);

    let mut sha1 = signing(&sim, &fresh_nonce());
    sha1.method = SignatureMethod::HmacSha1;
    assert_eq!(signed_get_with(&sim, &target, &sha1).await.status, 200);

    let wrong_secret = Signing {
        secret: "not-the-secret",
        ..signing(&sim, &fresh_nonce())
    };
    let reused = signing(&sim, &fresh_nonce());
    assert_eq!(signed_get_with(&sim, &target, &reused).await.status, 200);
    let stale = Signing {
        timestamp: now() - 3600,
        ..signing(&sim, &fresh_nonce())
    };
    let stranger = Signing {
        key: "someone-else",
        ..signing(&sim, &fresh_nonce())
    };
    sim.clear_requests();
    for (s, why) in [
        (&wrong_secret, "invalid signature"),
        (&reused, "nonce already used"),
        (&stale, "stale timestamp"),
        (&stranger, "unknown consumer key"),
    ] {
        let refused = signed_get_with(&sim, &target, s).await;
        assert_eq!(refused.status, 401, "{why}");
        let body = refused.json();
        assert_eq!(body["imsx_codeMajor"], "failure");
        assert_eq!(body["imsx_severity"], "error");
        assert_eq!(minor(&body), "unauthorisedrequest");
        let logged = sim.requests().pop().expect("logged");
        assert_eq!(logged.auth_refusal.as_deref(), Some(why));
        assert_eq!(logged.oauth_nonce.as_deref(), Some(s.nonce.as_str()));
    }
    let unsigned = send(&sim.base_url(), "GET", &target, &[], b"").await;
    assert_eq!(unsigned.status, 401);

    // A signature over another query does not pass.
    let header = oauth_header(
        &sim,
        &format!("{V11}/users?limit=5"),
        &signing(&sim, &fresh_nonce()),
    );
    let tampered = send(
        &sim.base_url(),
        "GET",
        &format!("{V11}/users?limit=6"),
        &[("Authorization", header)],
        b"",
    )
    .await;
    assert_eq!(tampered.status, 401);

    sim.rotate_secret("brand-new-secret");
    assert_eq!(signed_get(&sim, &target).await.status, 401);
    let renewed = Signing {
        secret: "brand-new-secret",
        ..signing(&sim, &fresh_nonce())
    };
    assert_eq!(signed_get_with(&sim, &target, &renewed).await.status, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn oneroster_the_oauth2_token_flow_issues_a_working_bearer() {
    let sim = default_sim().await;
    let c = sim.config().clone();
    let basic = |id: &str, secret: &str| {
        use base64::Engine as _;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
        )
    };
    let form = [(
        "Content-Type",
        "application/x-www-form-urlencoded".to_owned(),
    )];
    let post = |auth: String, body: &'static str| {
        let base = sim.base_url();
        let form = form.clone();
        async move {
            let mut headers = form.to_vec();
            headers.push(("Authorization", auth));
            send(&base, "POST", "/oauth/token", &headers, body.as_bytes()).await
        }
    };
    let scope = "grant_type=client_credentials&scope=https%3A%2F%2Fpurl.imsglobal.org%2Fspec%2For%2Fv1p2%2Fscope%2Froster.readonly";
    let issued = post(basic(&c.client_id, &c.client_secret), scope).await;
    assert_eq!(issued.status, 200, "{}", issued.text());
    let body = issued.json();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(
        body["scope"],
        "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly"
    );
    let token = body["access_token"].as_str().expect("token").to_owned();

    let bad = post(basic(&c.client_id, "wrong"), scope).await;
    assert_eq!(bad.status, 401);
    assert_eq!(bad.json()["error"], "invalid_client");
    let grant = post(basic(&c.client_id, &c.client_secret), "grant_type=password").await;
    assert_eq!(grant.status, 400);
    assert_eq!(grant.json()["error"], "unsupported_grant_type");

    let bearer = |t: &str| [("Authorization", format!("Bearer {t}"))];
    let ok = send(
        &sim.base_url(),
        "GET",
        &format!("{V12}/users?limit=3"),
        &bearer(&token),
        b"",
    )
    .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ids(&ok.json(), "users").len(), 3);
    sim.clear_requests();
    let unknown = send(
        &sim.base_url(),
        "GET",
        &format!("{V12}/users"),
        &bearer("nope"),
        b"",
    )
    .await;
    assert_eq!(unknown.status, 401);
    assert_eq!(minor(&unknown.json()), "unauthorisedrequest");
    assert_eq!(
        sim.requests()[0].auth_refusal.as_deref(),
        Some("invalid token")
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn oneroster_discovery_lists_our_tenant_and_hands_out_the_server() {
    let sim = default_sim().await;
    let c = sim.config().clone();
    let partner = [("Authorization", format!("Bearer {}", c.partner_token))];
    let denied = send(&sim.discovery_url(), "GET", "/applications", &[], b"").await;
    assert_eq!(denied.status, 401);
    let listed = send(&sim.discovery_url(), "GET", "/applications", &partner, b"").await;
    assert_eq!(listed.status, 200);
    assert!(listed.header("x-total-count").is_none());
    let body = listed.json();
    assert_eq!(body["status"], 1);
    let apps = body["applications"].as_array().expect("applications");
    assert_eq!(apps.len(), 3);
    let ours = apps
        .iter()
        .find(|a| a["tenant_id"] == c.tenant_id && a["application_id"] == c.application_id)
        .expect("our tenant");
    assert_eq!(
        ours["oneroster_application_id"],
        c.oneroster_application_id.as_str()
    );
    assert_eq!(ours["enabled"], "true");
    assert_eq!(ours["tenant_status"], "Active");
    assert!(apps.iter().any(|a| a["enabled"] == "false"));
    let paged = send(
        &sim.discovery_url(),
        "GET",
        "/applications?limit=1&offset=1",
        &partner,
        b"",
    )
    .await;
    assert_eq!(
        paged.json()["applications"].as_array().map(Vec::len),
        Some(1)
    );

    let server = send(
        &sim.discovery_url(),
        "GET",
        &format!("/applications/{}/server", c.oneroster_application_id),
        &partner,
        b"",
    )
    .await;
    assert_eq!(server.status, 200);
    let body = server.json();
    assert_eq!(body["server"]["client_id"], c.client_id.as_str());
    assert_eq!(body["server"]["client_secret"], c.client_secret.as_str());
    assert_eq!(body["server"]["endpoint_url"], sim.base_url().as_str());
    // Re-encoding the pre-escaped id breaks it.
    let reencoded = send(
        &sim.discovery_url(),
        "GET",
        &format!(
            "/applications/{}/server",
            encode(&c.oneroster_application_id)
        ),
        &partner,
        b"",
    )
    .await;
    assert_eq!(reencoded.status, 404);
    assert_eq!(reencoded.json()["message"], "Application not found");

    sim.set_application_enabled(false);
    let listed = send(&sim.discovery_url(), "GET", "/applications", &partner, b"")
        .await
        .json();
    let ours = listed["applications"]
        .as_array()
        .expect("apps")
        .iter()
        .find(|a| a["tenant_id"] == c.tenant_id)
        .cloned()
        .expect("ours");
    assert_eq!(ours["enabled"], "false");

    // The discovery record's bearer works on roster paths, as the proxy takes it.
    let bearer = [("Authorization", format!("Bearer {}", sim.district_bearer()))];
    let roster = send(&sim.base_url(), "GET", &format!("{V11}/orgs"), &bearer, b"").await;
    assert_eq!(roster.status, 200);
    sim.shutdown().await;
}
