//! HttpTools against local servers (wiremock on 127.0.0.1, and a raw socket for an endless
//! body): GET/POST, statuses, size limit, timeout, schemes, the refusal of non-public addresses
//! (directly and through redirects; the private ones are refused before any connection, so no
//! traffic leaves the loopback), and `http_post` pausing for confirmation in a real run.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use kern_core::{
    Agent, ExecutionMode, FunctionModel, IntoTools, ModelResponse, RunStatus, ToolCall,
};
use kern_toolkit::HttpTools;
use serde_json::json;
use wiremock::matchers::{body_string, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// HttpTools that may reach the local test servers on 127.0.0.1 (refused by default).
fn local() -> HttpTools {
    HttpTools::new().allow_ip(Ipv4Addr::LOCALHOST.into())
}

#[tokio::test]
async fn get_gives_status_content_type_and_body() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/hello"))
        .and(header("x-token", "t1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string("hi there")
                .insert_header("content-type", "text/plain"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let out = local()
        .http_get(
            format!("{}/hello", server.uri()),
            Some([("x-token".to_owned(), "t1".to_owned())].into()),
        )
        .await
        .unwrap();
    assert_eq!(out, "status: 200 OK\ncontent-type: text/plain\n\nhi there");
}

#[tokio::test]
async fn an_error_status_is_a_result() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_string("nope"))
        .mount(&server)
        .await;
    let out = local()
        .http_get(format!("{}/missing", server.uri()), None)
        .await
        .unwrap();
    assert_eq!(
        out,
        "status: 404 Not Found\ncontent-type: text/plain\n\nnope"
    );
}

#[tokio::test]
async fn post_sends_the_body_and_content_type() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/items"))
        .and(header("content-type", "application/json"))
        .and(body_string(r#"{"name":"kern"}"#))
        .respond_with(ResponseTemplate::new(201).set_body_string("created"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/form"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string("a=1"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let http = local();
    let out = http
        .http_post(
            format!("{}/items", server.uri()),
            r#"{"name":"kern"}"#.into(),
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        out,
        "status: 201 Created\ncontent-type: text/plain\n\ncreated"
    );
    let out = http
        .http_post(
            format!("{}/form", server.uri()),
            "a=1".into(),
            Some("application/x-www-form-urlencoded".into()),
            None,
        )
        .await
        .unwrap();
    assert!(out.starts_with("status: 200 OK"), "{out}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_cut() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(100_000)))
        .mount(&server)
        .await;
    let out = local()
        .max_response_bytes(1000)
        .http_get(server.uri(), None)
        .await
        .unwrap();
    let (head, body) = out.split_once("\n\n").unwrap();
    assert_eq!(head, "status: 200 OK\ncontent-type: text/plain");
    assert_eq!(
        body,
        format!(
            "{}\n[truncated: the body is longer than 1000 bytes; the rest was not read]",
            "x".repeat(1000)
        )
    );
}

/// A server on 127.0.0.1 whose one response never ends (chunked, forever).
fn endless_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
            line.clear();
        }
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n",
        );
        let chunk = format!("1000\r\n{}\r\n", "y".repeat(0x1000));
        // Until the client hangs up.
        while stream.write_all(chunk.as_bytes()).is_ok() {}
    });
    format!("http://{addr}/stream")
}

#[tokio::test]
async fn reading_stops_at_the_limit_of_an_endless_body() {
    let url = endless_server();
    let start = Instant::now();
    let out = local()
        .max_response_bytes(10_000)
        .timeout(Duration::from_secs(20))
        .http_get(url, None)
        .await
        .unwrap();
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(out.starts_with("status: 200 OK\ncontent-type: text/plain\n\n"));
    assert!(
        out.ends_with("[truncated: the body is longer than 10000 bytes; the rest was not read]")
    );
    let body = out.split_once("\n\n").unwrap().1;
    assert_eq!(body.split_once('\n').unwrap().0, "y".repeat(10_000));
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let start = Instant::now();
    let err = local()
        .timeout(Duration::from_millis(300))
        .http_get(server.uri(), None)
        .await
        .unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(4));
    assert!(
        err.message().contains("timed out after 300ms"),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn only_http_and_https_urls() {
    let http = HttpTools::new();
    for (url, why) in [
        ("file:///etc/passwd", "the scheme `file` is not allowed"),
        ("ftp://127.0.0.1/x", "the scheme `ftp` is not allowed"),
        ("data:text/plain,hi", "the scheme `data` is not allowed"),
        ("not a url", "is not a valid URL"),
        ("", "is not a valid URL"),
    ] {
        let err = http.http_get(url.into(), None).await.unwrap_err();
        assert!(err.message().contains(why), "{url}: {}", err.message());
        let err = http
            .http_post(url.into(), "x".into(), None, None)
            .await
            .unwrap_err();
        assert!(err.message().contains(why), "{url}: {}", err.message());
    }
}

#[tokio::test]
async fn bad_headers_and_refused_connections_are_tool_errors() {
    let server = MockServer::start().await;
    let http = local();
    let err = http
        .http_get(
            server.uri(),
            Some([("bad header".to_owned(), "v".to_owned())].into()),
        )
        .await
        .unwrap_err();
    assert!(err.message().contains("is invalid"), "{}", err.message());

    // A port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = http
        .http_get(format!("http://127.0.0.1:{port}/"), None)
        .await
        .unwrap_err();
    assert!(err.message().contains("failed"), "{}", err.message());
}

#[test]
fn default_modes() {
    let mut tools = Vec::new();
    HttpTools::new().into_tools(&mut tools).unwrap();
    let modes: Vec<_> = tools
        .iter()
        .map(|t| (t.definition().name.to_string(), t.definition().mode.clone()))
        .collect();
    assert_eq!(
        modes,
        [
            ("http_get".to_owned(), ExecutionMode::Internal),
            ("http_post".to_owned(), ExecutionMode::RequiresConfirmation),
        ]
    );
    assert_eq!(
        tools[1].definition().parameters["required"],
        json!(["url", "body"])
    );
}

async fn posts(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .count()
}

#[tokio::test]
async fn agent_gets_at_once_and_pauses_a_post_until_confirmed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("page"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string("payload"))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    let get = json!({ "url": format!("{}/page", server.uri()) }).to_string();
    let post = json!({ "url": format!("{}/send", server.uri()), "body": "payload" }).to_string();
    let agent = Agent::builder()
        .model(FunctionModel::script([
            ModelResponse::calls([
                ToolCall::new("c1", "http_get", get),
                ToolCall::new("c2", "http_post", post),
            ]),
            ModelResponse::text("sent"),
        ]))
        .tool(local().timeout(Duration::from_secs(10)))
        .build()
        .unwrap();

    let mut run = agent.run("fetch and send").await.unwrap();
    assert!(run.is_paused());
    assert_eq!(
        run.tool_executions[0].result.as_deref(),
        Some("status: 200 OK\ncontent-type: text/plain\n\npage")
    );
    assert_eq!(run.requirements.len(), 1);
    assert!(run.requirements[0].needs_confirmation());
    assert_eq!(run.requirements[0].tool_execution.tool_name, "http_post");
    assert_eq!(
        posts(&server).await,
        0,
        "nothing posted before confirmation"
    );

    for req in run.active_requirements_mut() {
        req.confirm();
    }
    let run = agent
        .continue_run(&run.run_id, run.requirements)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(posts(&server).await, 1);
    let post = run
        .tool_executions
        .iter()
        .find(|e| e.tool_name == "http_post")
        .unwrap();
    assert_eq!(
        post.result.as_deref(),
        Some("status: 202 Accepted\ncontent-type: (none)\n\n")
    );
}

// ------------------------------------------------------------------------------------------
// Non-public addresses

async fn any_get(server: &MockServer) -> usize {
    server.received_requests().await.unwrap_or_default().len()
}

#[tokio::test]
async fn loopback_private_and_metadata_addresses_are_refused_by_default() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("internal"))
        .mount(&server)
        .await;
    let port = server.address().port();
    let http = HttpTools::new();
    for url in [
        server.uri(),
        format!("http://127.0.0.1:{port}/"),
        format!("http://[::1]:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        // Other spellings of 127.0.0.1, normalised by the URL parser.
        format!("http://2130706433:{port}/"),
        format!("http://0x7f.1:{port}/"),
        format!("http://0.0.0.0:{port}/"),
        // Never connected to: refused before.
        "http://10.0.0.1/".to_owned(),
        "http://192.168.0.1/".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[fd00:ec2::254]/".to_owned(),
        "http://[::ffff:169.254.169.254]/".to_owned(),
    ] {
        let err = http.http_get(url.clone(), None).await.unwrap_err();
        assert!(
            err.message().contains("is refused") && err.message().contains("allow_network"),
            "{url}: {}",
            err.message()
        );
        let err = http
            .http_post(url.clone(), "x".into(), None, None)
            .await
            .unwrap_err();
        assert!(
            err.message().contains("is refused"),
            "{url}: {}",
            err.message()
        );
    }
    let err = http
        .http_get("http://169.254.169.254/".into(), None)
        .await
        .unwrap_err();
    assert!(
        err.message()
            .contains("169.254.169.254 is the cloud metadata address"),
        "{}",
        err.message()
    );
    assert_eq!(
        any_get(&server).await,
        0,
        "a refused request reached the server"
    );
}

#[tokio::test]
async fn a_name_that_resolves_to_loopback_is_refused_by_default() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("internal"))
        .mount(&server)
        .await;
    let url = format!("http://localhost:{}/", server.address().port());
    let err = HttpTools::new()
        .http_get(url.clone(), None)
        .await
        .unwrap_err();
    assert!(
        err.message()
            .contains("refused: `localhost` resolves to no allowed address"),
        "{}",
        err.message()
    );
    assert_eq!(any_get(&server).await, 0);
    // Allowed, the same name is reached.
    let out = local()
        .allow_ip(Ipv6Addr::LOCALHOST.into())
        .http_get(url, None)
        .await
        .unwrap();
    assert!(out.ends_with("internal"), "{out}");
}

#[tokio::test]
async fn a_redirect_to_a_refused_address_is_not_followed() {
    let server = MockServer::start().await;
    let port = server.address().port();
    for (from, to) in [
        ("/to-v6-loopback", format!("http://[::1]:{port}/inside")),
        (
            "/to-metadata",
            "http://169.254.169.254/latest/meta-data/".to_owned(),
        ),
        ("/to-private", "http://10.1.2.3/admin".to_owned()),
        (
            "/to-mapped",
            format!("http://[::ffff:127.0.0.2]:{port}/inside"),
        ),
    ] {
        Mock::given(method("GET"))
            .and(path(from))
            .respond_with(ResponseTemplate::new(302).insert_header("location", to.as_str()))
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/inside"))
        .respond_with(ResponseTemplate::new(200).set_body_string("internal"))
        .expect(0)
        .mount(&server)
        .await;
    // 127.0.0.1 is allowed, and only it.
    let http = local();
    for from in [
        "/to-v6-loopback",
        "/to-metadata",
        "/to-private",
        "/to-mapped",
    ] {
        let err = http
            .http_get(format!("{}{from}", server.uri()), None)
            .await
            .unwrap_err();
        assert!(
            err.message().contains("the redirect is refused"),
            "{from}: {}",
            err.message()
        );
    }
}

#[tokio::test]
async fn redirects_between_allowed_addresses_are_followed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/a"))
        .respond_with(ResponseTemplate::new(301).insert_header("location", "/b"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/b"))
        .respond_with(ResponseTemplate::new(200).set_body_string("arrived"))
        .mount(&server)
        .await;
    let out = local()
        .http_get(format!("{}/a", server.uri()), None)
        .await
        .unwrap();
    assert!(out.ends_with("arrived"), "{out}");
    // A loop ends at the limit, as a tool error.
    Mock::given(method("GET"))
        .and(path("/loop"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/loop"))
        .mount(&server)
        .await;
    let err = local()
        .http_get(format!("{}/loop", server.uri()), None)
        .await
        .unwrap_err();
    assert!(err.message().contains("redirects"), "{}", err.message());
}
