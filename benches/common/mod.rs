//! What the provider benches share: a loopback mock, the turn bench (a provider's non-streamed
//! turn next to a bare `reqwest` POST of the very request it sends) and the stream bench (a long
//! streamed answer through the provider next to a bare download of the same bytes).
//!
//! Each provider's bench file holds its fixtures (a conversation, tools, answers in the
//! provider's wire format) and calls [`turn`] and [`stream`].

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use futures::StreamExt;
use kern::model::HttpSettings;
use kern::{Model, ModelEvent, ModelRequest, ModelResponse};
use wiremock::http::HeaderMap;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A loopback mock answering every POST with `response`. Without a request log, which would
/// grow with every iteration.
async fn mock(response: ResponseTemplate) -> MockServer {
    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    Mock::given(method("POST"))
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

/// The request a provider sends for one turn, recorded by a throwaway mock: what the bare POST
/// replays.
struct Recorded {
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

async fn record<M: Model>(
    make: &impl Fn(&str) -> M,
    request: ModelRequest<'_>,
    answer: ResponseTemplate,
) -> Recorded {
    let recorder = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(answer)
        .mount(&recorder)
        .await;
    make(&recorder.uri()).invoke(request).await.unwrap();
    let mut sent = recorder.received_requests().await.unwrap().remove(0);
    // reqwest sets these itself.
    for name in ["host", "content-length"] {
        sent.headers.remove(name);
    }
    Recorded {
        path: sent.url.path().to_owned(),
        headers: sent.headers,
        body: sent.body,
    }
}

/// One non-streamed turn: `make(mock_uri)` answering `request` from a mock that gives `answer`,
/// next to a bare `reqwest::Client` POST of the same path, headers and body (which neither builds
/// the body nor parses the answer), and next to the same bare POST with kern's default
/// timeouts (a connect timeout on the client, one timer over each whole request).
///
/// Criterion times the three in the group `{name}_turn`. The machine is shared and its load
/// drifts between criterion's runs, so the three are also measured side by side, in alternating
/// batches, and their medians printed.
pub fn turn<M: Model>(
    c: &mut Criterion,
    name: &str,
    make: impl Fn(&str) -> M,
    request: ModelRequest<'_>,
    answer: ResponseTemplate,
) {
    let rt = runtime();
    let sent = rt.block_on(record(&make, request, answer.clone()));
    let server = rt.block_on(mock(answer));
    let model = make(&server.uri());
    let url = format!("{}{}", server.uri(), sent.path);
    let defaults = HttpSettings::new("", None);
    let plain = reqwest::Client::new();
    let timed = reqwest::Client::builder()
        .connect_timeout(defaults.connect_timeout)
        .build()
        .unwrap();

    let kern_turn = || async { black_box(model.invoke(request).await.unwrap()) };
    let bare_turn = |with_timeouts: bool| {
        let client = if with_timeouts { &timed } else { &plain };
        let post = client
            .post(&url)
            .headers(sent.headers.clone())
            .body(sent.body.clone());
        async move {
            let exchange = async { post.send().await?.bytes().await };
            let bytes = if with_timeouts {
                tokio::time::timeout(defaults.timeout, exchange)
                    .await
                    .unwrap()
            } else {
                exchange.await
            };
            black_box(bytes.unwrap())
        }
    };

    let mut group = c.benchmark_group(format!("{name}_turn"));
    group.throughput(Throughput::Elements(1));
    group.bench_function("kern_invoke", |b| b.iter(|| rt.block_on(kern_turn())));
    group.bench_function("bare_reqwest_post", |b| {
        b.iter(|| rt.block_on(bare_turn(false)))
    });
    group.bench_function("bare_reqwest_post_with_timeouts", |b| {
        b.iter(|| rt.block_on(bare_turn(true)))
    });
    group.finish();

    const BATCH: u32 = 200;
    const ROUNDS: usize = 31;
    let mut times: [Vec<Duration>; 3] = Default::default();
    for _ in 0..ROUNDS {
        let started = Instant::now();
        rt.block_on(async {
            for _ in 0..BATCH {
                kern_turn().await;
            }
        });
        times[0].push(started.elapsed() / BATCH);
        for (slot, with_timeouts) in [(1, false), (2, true)] {
            let started = Instant::now();
            rt.block_on(async {
                for _ in 0..BATCH {
                    bare_turn(with_timeouts).await;
                }
            });
            times[slot].push(started.elapsed() / BATCH);
        }
    }
    let [kern, plain, timed] = times.map(|mut t| {
        t.sort();
        t[t.len() / 2]
    });
    let overhead = |base: Duration| (kern.as_secs_f64() / base.as_secs_f64() - 1.0) * 100.0;
    println!(
        "{name}_turn paired medians ({ROUNDS} rounds of {BATCH}): kern_invoke {kern:?}, \
         bare_reqwest_post {plain:?} (kern {:+.1}%), bare_reqwest_post_with_timeouts {timed:?} \
         (kern {:+.1}%)",
        overhead(plain),
        overhead(timed)
    );
}

/// Long streamed answers: each `(case, body)` served by a mock as `text/event-stream`, read
/// through `make(mock_uri).invoke_stream(request)` to its `Completed` event (group
/// `{name}_stream`, throughput in bytes of the body), and the same bytes downloaded by a bare
/// client (`{case}_bare_download`). `check` looks at each case's completed turn once, untimed.
pub fn stream<M: Model>(
    c: &mut Criterion,
    name: &str,
    make: impl Fn(&str) -> M,
    request: ModelRequest<'_>,
    cases: &[(&str, String)],
    check: impl Fn(&str, &ModelResponse),
) {
    let rt = runtime();
    let client = reqwest::Client::new();
    let mut group = c.benchmark_group(format!("{name}_stream"));
    group.sample_size(20);
    for (case, body) in cases {
        let server = rt.block_on(mock(
            ResponseTemplate::new(200).set_body_raw(body.clone(), "text/event-stream"),
        ));
        let model = make(&server.uri());
        let read_through = || async {
            let mut events = model.invoke_stream(request);
            let mut last = None;
            while let Some(event) = events.next().await {
                last = Some(black_box(event.unwrap()));
            }
            last
        };
        // Once, untimed: the stream must be whole, or the figure means nothing.
        match rt.block_on(read_through()) {
            Some(ModelEvent::Completed(turn)) => check(case, &turn),
            other => panic!("{case}: the stream did not complete: {other:?}"),
        }
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(*case, |b| b.iter(|| rt.block_on(read_through())));
        let url = server.uri();
        group.bench_function(format!("{case}_bare_download"), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let response = client.post(&url).body("{}").send().await.unwrap();
                    black_box(response.bytes().await.unwrap())
                })
            })
        });
    }
    group.finish();
}
