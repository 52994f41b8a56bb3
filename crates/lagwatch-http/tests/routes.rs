//! The routes against a fixed sample snapshot: Burrow's shapes and quirks, lagwatch's JSON
//! API, health, authentication and the admin token.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use lagwatch_core::secret::Secret;
use lagwatch_http::settings::{BurrowView, ClusterModule};
use lagwatch_http::{Auth, HttpServer, HttpSettings};
use lagwatch_runtime::PipelineHandle;
use lagwatch_test_support::sample;
use serde_json::Value;
use tower::ServiceExt;

fn settings() -> HttpSettings {
    let mut burrow = BurrowView::default();
    burrow.clusters.insert(
        "live".into(),
        ClusterModule {
            class_name: "kafka".into(),
            servers: vec!["127.0.0.1:9092".into()],
            client_profile: "default".into(),
            topic_refresh_s: 60,
            offset_refresh_s: 10,
        },
    );
    HttpSettings {
        host: "collector-1".into(),
        burrow,
        ..HttpSettings::default()
    }
}

fn app(settings: HttpSettings) -> axum::Router {
    HttpServer::new(settings, PipelineHandle::detached(sample::snapshot())).router()
}

struct Answer {
    status: StatusCode,
    content_type: String,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }
}

async fn send(
    app: &axum::Router,
    method: Method,
    path: &str,
    auth: Option<&str>,
    body: &str,
) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(auth) = auth {
        request = request.header(header::AUTHORIZATION, auth);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        content_type,
        text: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

async fn get(app: &axum::Router, path: &str) -> Answer {
    send(app, Method::GET, path, None, "").await
}

#[tokio::test]
async fn burrow_lists_come_in_burrows_envelopes() {
    let app = app(settings());
    let a = get(&app, "/v3/kafka").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.content_type, "application/json");
    let body = a.json();
    assert_eq!(body["error"], false);
    assert_eq!(body["message"], "cluster list returned");
    assert_eq!(body["clusters"], serde_json::json!(["backup", "live"]));
    assert_eq!(
        body["request"],
        serde_json::json!({"url": "/v3/kafka", "host": "collector-1"})
    );

    let topics = get(&app, "/v3/kafka/live/topic").await.json();
    assert_eq!(topics["message"], "topic list returned");
    assert_eq!(
        topics["topics"],
        serde_json::json!(["payment_log", "payments"])
    );

    // Partitions without a broker sample are skipped, as Burrow does.
    let offsets = get(&app, "/v3/kafka/live/topic/payment_log").await.json();
    assert_eq!(offsets["message"], "topic offsets returned");
    assert_eq!(
        offsets["offsets"],
        serde_json::json!([1_234_621, 1_233_437])
    );

    let consumers = get(&app, "/v3/kafka/live/consumer").await.json();
    assert_eq!(consumers["message"], "consumer list returned");
    assert_eq!(
        consumers["consumers"],
        serde_json::json!(["billing", "ghost", "hdfs_consumer", "slow_reader"])
    );
    let of_topic = get(&app, "/v3/kafka/live/topic/payments/consumers")
        .await
        .json();
    assert_eq!(of_topic["message"], "consumers of topic returned");
    assert_eq!(
        of_topic["consumers"],
        serde_json::json!(["billing", "slow_reader"])
    );
    // An unknown topic of a known cluster: 200 with an empty list, like Burrow.
    let none = get(&app, "/v3/kafka/live/topic/nope/consumers").await;
    assert_eq!(none.status, StatusCode::OK);
    assert_eq!(none.json()["consumers"], serde_json::json!([]));

    let module = get(&app, "/v3/kafka/live").await.json();
    assert_eq!(module["message"], "cluster module detail returned");
    assert_eq!(module["module"]["class-name"], "kafka");
    assert_eq!(
        module["module"]["servers"],
        serde_json::json!(["127.0.0.1:9092"])
    );
}

#[tokio::test]
async fn burrow_errors_keep_their_codes_and_messages() {
    let app = app(settings());
    for (path, message) in [
        ("/v3/kafka/nope", "cluster module not found"),
        ("/v3/kafka/nope/topic", "cluster not found"),
        ("/v3/kafka/live/topic/nope", "cluster or topic not found"),
        ("/v3/kafka/nope/topic/x/consumers", "cluster not found"),
        ("/v3/kafka/nope/consumer", "cluster not found"),
        ("/v3/config/storage/other", "storage module not found"),
    ] {
        let a = get(&app, path).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
        let body = a.json();
        assert_eq!(body["error"], true, "{path}");
        assert_eq!(body["message"], message, "{path}");
        assert_eq!(body["request"]["url"], path);
    }
    // The catch-all: JSON-looking text with `result` and a newline, sent as plain text.
    let a = get(&app, "/v2/whatever").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.content_type.starts_with("text/plain"));
    assert_eq!(
        a.text,
        "{\"error\":true,\"message\":\"invalid request type\",\"result\":{}}\n"
    );
}

#[tokio::test]
async fn status_lists_problems_lag_lists_everything_and_notfound_is_404_without_error() {
    let app = app(settings());
    let lag = get(&app, "/v3/kafka/live/consumer/billing/lag").await;
    assert_eq!(lag.status, StatusCode::OK);
    let lag = lag.json();
    assert_eq!(lag["message"], "consumer status returned");
    assert_eq!(lag["status"]["status"], "ERR");
    assert_eq!(lag["status"]["partitions"].as_array().unwrap().len(), 5);
    assert_eq!(lag["status"]["partition_count"], 5);
    assert_eq!(lag["status"]["totallag"], 3 + 120 + 4_000 + 900 + 15);
    assert_eq!(lag["status"]["maxlag"]["partition"], 2);
    let p = &lag["status"]["partitions"][1];
    for key in [
        "topic",
        "partition",
        "owner",
        "client_id",
        "status",
        "start",
        "end",
        "current_lag",
        "complete",
    ] {
        assert!(p.get(key).is_some(), "partition field {key} in {p}");
    }
    assert!(
        p["end"].get("observedAt").is_some(),
        "Burrow's camelCase name"
    );

    let status = get(&app, "/v3/kafka/live/consumer/billing/status")
        .await
        .json();
    let listed: Vec<&str> = status["status"]["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(listed, vec!["WARN", "STOP", "STALL", "REWIND"]);
    assert_eq!(status["status"]["partition_count"], 5);

    for path in [
        "/v3/kafka/live/consumer/nope/lag",
        "/v3/kafka/nope/consumer/x/status",
    ] {
        let a = get(&app, path).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
        let body = a.json();
        assert_eq!(
            body["error"], false,
            "Burrow's NOTFOUND is not an error body"
        );
        assert_eq!(body["status"]["status"], "NOTFOUND");
        assert_eq!(body["status"]["complete"], 1.0);
        assert_eq!(body["status"]["partitions"], serde_json::json!([]));
        assert_eq!(body["status"]["maxlag"], Value::Null);
        assert_eq!(body["status"]["totallag"], 0);
    }
}

#[tokio::test]
async fn health_endpoints_answer() {
    let app = app(settings());
    let a = get(&app, "/burrow/admin").await;
    assert_eq!((a.status, a.text.as_str()), (StatusCode::OK, "GOOD"));
    let a = get(&app, "/healthz").await;
    assert_eq!(a.status, StatusCode::OK);
    // A detached handle has run no evaluation: not ready.
    let a = get(&app, "/readyz").await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(a.text.contains("no evaluation yet"), "{}", a.text);
    let a = get(&app, "/burrow/admin/ready").await;
    assert_eq!(
        (a.status, a.text.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "STARTING")
    );
}

#[tokio::test]
async fn the_json_api_sorts_worst_first_and_tells_unknown_cluster_from_unknown_group() {
    let app = app(settings());
    let groups = get(&app, "/api/v1/groups").await.json();
    let order: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["group"].as_str().unwrap())
        .collect();
    // Status first (ERR, WARN, OK, NOTFOUND), then the larger total lag (slow_reader 1,
    // archiver 0).
    assert_eq!(
        order,
        vec![
            "billing",
            "hdfs_consumer",
            "slow_reader",
            "archiver",
            "ghost"
        ]
    );
    let billing = &groups["groups"][0];
    assert_eq!(billing["worst_partition"], "REWIND");
    assert_eq!(billing["max_time_lag_seconds"], 3_600.0);
    assert_eq!(groups["groups"][2]["stale"], true);

    let filtered = get(&app, "/api/v1/groups?cluster=live&status=warn&q=hdfs")
        .await
        .json();
    assert_eq!(filtered["groups"].as_array().unwrap().len(), 1);
    let bad = get(&app, "/api/v1/groups?status=PURPLE").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.json()["error"].as_str().unwrap().contains("PURPLE"));

    let detail = get(&app, "/api/v1/groups/live/billing").await.json();
    assert_eq!(detail["partitions"][2]["status"], "STOP");
    assert_eq!(
        detail["partitions"][2]["time_lag_confidence"],
        "extrapolated"
    );

    let no_group = get(&app, "/api/v1/groups/live/nope").await;
    assert_eq!(no_group.status, StatusCode::NOT_FOUND);
    assert!(
        no_group.json()["error"]
            .as_str()
            .unwrap()
            .contains("no group")
    );
    let no_cluster = get(&app, "/api/v1/groups/nope/billing").await;
    assert!(
        no_cluster.json()["error"]
            .as_str()
            .unwrap()
            .contains("no cluster")
    );

    let topic = get(&app, "/api/v1/topics/live/payments").await.json();
    assert_eq!(topic["consumers"].as_array().unwrap().len(), 2);
    assert_eq!(topic["consumers"][0]["group"], "billing");
    let status = get(&app, "/api/v1/status").await.json();
    assert_eq!(status["ready"], false);
    assert_eq!(status["cycle"], 1);
    assert!(status["history"]["points"].is_u64(), "{status}");
}

#[tokio::test]
async fn without_credentials_every_endpoint_answers_401() {
    let bearer = HttpSettings {
        auth: Auth::Bearer(Secret::new("reader-token".to_owned())),
        ..settings()
    };
    let basic = HttpSettings {
        auth: Auth::Basic {
            username: "telegraf".into(),
            password: Secret::new("pw".to_owned()),
        },
        ..settings()
    };
    let paths = [
        "/v3/kafka",
        "/v3/kafka/live",
        "/v3/kafka/live/topic",
        "/v3/kafka/live/topic/payments",
        "/v3/kafka/live/topic/payments/consumers",
        "/v3/kafka/live/consumer",
        "/v3/kafka/live/consumer/billing",
        "/v3/kafka/live/consumer/billing/status",
        "/v3/kafka/live/consumer/billing/lag",
        "/v3/config",
        "/v3/config/storage",
        "/v3/admin/loglevel",
        "/burrow/admin",
        "/burrow/admin/ready",
        "/metrics",
        "/healthz",
        "/readyz",
        "/api/v1/status",
        "/api/v1/groups",
        "/api/v1/groups/live/billing",
        "/api/v1/groups/live/billing/history",
        "/api/v1/topics/live/payments",
        "/",
        "/nope",
    ];
    for (settings, good) in [
        (bearer, "Bearer reader-token"),
        (basic, "Basic dGVsZWdyYWY6cHc="),
    ] {
        let app = app(settings);
        for path in paths {
            let a = send(&app, Method::GET, path, None, "").await;
            assert_eq!(
                a.status,
                StatusCode::UNAUTHORIZED,
                "{path} without credentials"
            );
            assert!(!a.text.contains("reader-token") && !a.text.contains("pw\""));
            let a = send(&app, Method::GET, path, Some("Bearer wrong"), "").await;
            assert_eq!(
                a.status,
                StatusCode::UNAUTHORIZED,
                "{path} with a wrong token"
            );
        }
        let a = send(&app, Method::GET, "/v3/kafka", Some(good), "").await;
        assert_eq!(a.status, StatusCode::OK);
        let a = send(
            &app,
            Method::DELETE,
            "/v3/kafka/live/consumer/billing",
            None,
            "",
        )
        .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn changes_need_the_admin_token() {
    // No admin token configured: changes are refused outright.
    let app1 = app(settings());
    let a = send(
        &app1,
        Method::DELETE,
        "/v3/kafka/live/consumer/billing",
        None,
        "",
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(
        a.json()["message"]
            .as_str()
            .unwrap()
            .contains("http.admin_token")
    );
    let a = send(
        &app1,
        Method::POST,
        "/v3/admin/loglevel",
        None,
        r#"{"level":"debug"}"#,
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);

    let app2 = app(HttpSettings {
        admin_token: Some(Secret::new("admin-token".to_owned())),
        ..settings()
    });
    let a = send(
        &app2,
        Method::DELETE,
        "/v3/kafka/live/consumer/billing",
        None,
        "",
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let a = send(
        &app2,
        Method::POST,
        "/v3/admin/loglevel",
        Some("Bearer admin-token"),
        "not json",
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.json()["message"], "could not decode message body");
    let a = send(
        &app2,
        Method::POST,
        "/v3/admin/loglevel",
        Some("Bearer admin-token"),
        r#"{"level":"loud"}"#,
    )
    .await;
    assert_eq!(
        a.status,
        StatusCode::NOT_FOUND,
        "Burrow answers an unknown level with 404"
    );
    assert_eq!(a.json()["message"], "unknown log level");
    let a = get(&app2, "/v3/admin/loglevel").await.json();
    assert_eq!(a["message"], "log level returned");
    assert_eq!(a["level"], "info");
}

mod paths {
    use super::*;
    use proptest::prelude::*;

    fn segment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("v3".to_owned()),
            Just("kafka".to_owned()),
            Just("live".to_owned()),
            Just("consumer".to_owned()),
            Just("topic".to_owned()),
            Just("api".to_owned()),
            Just("v1".to_owned()),
            Just("groups".to_owned()),
            Just("config".to_owned()),
            "[a-zA-Z0-9%._~!$&'()*+,;=:@-]{0,12}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]
        #[test]
        fn any_path_and_query_gets_an_answer_never_a_panic(
            segments in proptest::collection::vec(segment(), 0..7),
            query in "[a-z=&%0-9A-Z]{0,24}",
            method in prop_oneof![Just(Method::GET), Just(Method::POST), Just(Method::DELETE)],
        ) {
            let path = format!("/{}?{query}", segments.join("/"));
            let Ok(uri) = path.parse::<axum::http::Uri>() else { return Ok(()); };
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let answer = rt.block_on(async {
                let app = app(settings());
                let request = Request::builder().method(method).uri(uri).body(Body::empty()).unwrap();
                app.oneshot(request).await.unwrap().status()
            });
            prop_assert!(!answer.is_server_error(), "{path}: {answer}");
        }
    }
}

#[tokio::test]
async fn the_json_api_carries_group_and_partition_trends_leaving_out_what_is_unknown() {
    use lagwatch_core::PartitionStatus;
    use lagwatch_core::snapshot::SnapshotData;
    use lagwatch_core::trend::{CatchUp, Trend};
    let at = sample::SAMPLE_AT_MS;
    let mut fast = sample::partition("orders", 0, PartitionStatus::Ok, 800, Some(1_200), "", at);
    fast.extras.trend = Some(Trend {
        production_rate: Some(100.0),
        consumption_rate: Some(150.0),
        lag_rate: Some(-50.0),
        catch_up: CatchUp::In { seconds: 16.0 },
        retention_deadline_seconds: Some(40.0),
        ..Trend::UNKNOWN
    });
    let mut slow = sample::partition("orders", 1, PartitionStatus::Ok, 10, Some(50), "", at);
    slow.extras.trend = Some(Trend {
        production_rate: Some(20.0),
        consumption_rate: Some(30.0),
        lag_rate: Some(-10.0),
        catch_up: CatchUp::In { seconds: 1.0 },
        ..Trend::UNKNOWN
    });
    let unknown = sample::partition("orders", 2, PartitionStatus::Ok, 0, None, "", at);
    let group = sample::group("live", "search", vec![fast, slow, unknown], at);
    let snapshot = lagwatch_core::Snapshot::new(SnapshotData {
        at_ms: at,
        cycle: 1,
        groups: vec![group],
        topics: Vec::new(),
    });
    let app = HttpServer::new(settings(), PipelineHandle::detached(snapshot)).router();

    let groups = get(&app, "/api/v1/groups").await.json();
    let g = &groups["groups"][0];
    assert_eq!(g["production_rate"], 120.0);
    assert_eq!(g["consumption_rate"], 180.0);
    assert_eq!(g["lag_rate"], -60.0);
    assert_eq!(g["time_to_catch_up_seconds"], 16.0);
    assert_eq!(g["catching_up"], true);
    assert_eq!(g["retention_deadline_seconds"], 40.0);
    assert_eq!(g["data_loss_before_catch_up"], false);

    let detail = get(&app, "/api/v1/groups/live/search").await.json();
    let p = &detail["partitions"];
    assert_eq!(p[0]["time_to_catch_up_seconds"], 16.0);
    assert_eq!(p[1]["lag_rate"], -10.0);
    assert_eq!(p[1].get("retention_deadline_seconds"), None);
    assert_eq!(p[1].get("data_loss_before_catch_up"), None);
    for key in ["production_rate", "catching_up", "time_to_catch_up_seconds"] {
        assert_eq!(p[2].get(key), None, "{key} of a partition without a trend");
    }
}

#[tokio::test]
async fn partitions_carry_a_one_line_reason_for_their_status() {
    let app = app(settings());
    let detail = get(&app, "/api/v1/groups/live/billing").await.json();
    let reasons: Vec<&str> = detail["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        vec![
            "",
            "lag grew at every commit (120 → 120)",
            "no commit for 1s while lag is 4,000",
            "offset unchanged at 40,000 over the window",
            "committed offset went back within the window",
        ]
    );
}

#[tokio::test]
async fn history_lists_every_partitions_lag_beside_the_groups_points() {
    let server = HttpServer::new(settings(), PipelineHandle::detached(sample::snapshot()));
    server.history().record(&sample::snapshot_at(1_000_000, 1));
    server.history().record(&sample::snapshot_at(1_010_000, 2));
    let app = server.router();
    let h = get(&app, "/api/v1/groups/live/billing/history")
        .await
        .json();
    assert_eq!(h["points"].as_array().unwrap().len(), 2);
    assert_eq!(h["partitions"].as_array().unwrap().len(), 5);
    assert_eq!(
        h["partitions"][2],
        serde_json::json!({"topic": "payments", "partition": 2})
    );
    assert_eq!(h["partition_points"][1]["at_ms"], 1_010_000);
    assert_eq!(
        h["partition_points"][1]["lag"],
        serde_json::json!([3, 120, 4_000, 900, 15])
    );
}

#[tokio::test]
async fn the_dashboard_is_served_from_the_binary_with_cache_headers() {
    let app = app(settings());
    let response = app
        .clone()
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"));
    let page = String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(page.contains("/ui/app.js?v="), "{page}");

    for (path, kind) in [
        ("/ui/app.js", "text/javascript; charset=utf-8"),
        ("/ui/app.css", "text/css; charset=utf-8"),
    ] {
        let response = app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()[header::CONTENT_TYPE], kind);
        assert_eq!(
            response.headers()[header::CACHE_CONTROL],
            "public, max-age=86400"
        );
        let etag = response.headers()[header::ETAG].clone();
        // The same content again: 304 without a body.
        let again = app
            .clone()
            .oneshot(
                Request::get(path)
                    .header(header::IF_NONE_MATCH, etag)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
    }
    let sizes = lagwatch_http::dashboard::asset_sizes();
    assert!(sizes.iter().all(|(_, n)| *n > 0));

    // Other unknown paths still get Burrow's answer.
    let unknown = get(&app, "/ui/nope.js").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.text.contains("invalid request type"));
}
