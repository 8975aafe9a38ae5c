//! What the providers share over HTTP: their settings ([`HttpSettings`]), the API key that never
//! shows ([`ApiKey`]), and one POST with timeouts and retries ([`Http::post`]).

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};

use std::future::Future;

use futures::Stream;

use super::ModelError;
use super::sse::{self, SseEvent};

/// An API key. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// A key.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key from an environment variable, if it is set and not empty.
    pub fn from_env(var: &str) -> Option<Self> {
        std::env::var(var)
            .ok()
            .filter(|k| !k.trim().is_empty())
            .map(ApiKey)
    }

    /// The key itself, for a request header.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl From<String> for ApiKey {
    fn from(key: String) -> Self {
        ApiKey(key)
    }
}

impl From<&str> for ApiKey {
    fn from(key: &str) -> Self {
        ApiKey(key.to_owned())
    }
}

/// How a provider reaches its server: address, key, timeouts and retries.
///
/// Every provider's builder sets these; the defaults suit the public APIs.
#[derive(Clone)]
pub struct HttpSettings {
    /// The API's base URL, without a trailing slash (`https://api.openai.com/v1`).
    pub base_url: String,
    /// The key, if the server wants one.
    pub api_key: Option<ApiKey>,
    /// How long connecting may take. Default 10 s.
    pub connect_timeout: Duration,
    /// How long one try of a non-streamed request may take, from sending to the last byte of
    /// the answer. Default 120 s.
    pub timeout: Duration,
    /// How long a stream may go without a byte (keep-alives count). Default 60 s.
    pub read_timeout: Duration,
    /// How long a streamed answer may take in all, from the request to its last byte (tries
    /// before the answer started included), however often keep-alives arrive. Past it the
    /// stream ends with [`ModelError::StreamTimeout`]. Default 10 min.
    pub stream_timeout: Duration,
    /// The largest answer read, in bytes: a whole response body, or all the bytes of a stream.
    /// Past it the answer is dropped with [`ModelError::ResponseTooLarge`] (it is never
    /// buffered further). Default 32 MiB.
    pub max_response_bytes: usize,
    /// How many times a request is tried again after a 429, a 5xx, a connection error or a
    /// timeout. Default 3 (so 4 tries in all).
    pub max_retries: u32,
    /// The first wait before trying again; each later one doubles, up to
    /// [`max_backoff`](Self::max_backoff). Default 500 ms.
    pub initial_backoff: Duration,
    /// The longest wait between tries, also for a server's `Retry-After`. Default 30 s.
    pub max_backoff: Duration,
    /// Extra headers sent with every request (an organisation, a project, a proxy's token).
    pub headers: HeaderMap,
}

impl HttpSettings {
    /// Settings for a server at `base_url` with the default timeouts and retries.
    pub fn new(base_url: impl Into<String>, api_key: Option<ApiKey>) -> Self {
        let mut settings = HttpSettings {
            base_url: String::new(),
            api_key,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(120),
            read_timeout: Duration::from_secs(60),
            stream_timeout: Duration::from_secs(600),
            max_response_bytes: 32 * 1024 * 1024,
            max_retries: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            headers: HeaderMap::new(),
        };
        settings.set_base_url(base_url.into());
        settings
    }

    /// Settings from a provider's environment variables: the base URL from `base_url_var` if it
    /// is set and not blank, else `default_base_url`; the key from `key_var`.
    pub(crate) fn from_env(base_url_var: &str, default_base_url: &str, key_var: &str) -> Self {
        let base_url = std::env::var(base_url_var)
            .ok()
            .filter(|url| !url.trim().is_empty())
            .unwrap_or_else(|| default_base_url.to_owned());
        HttpSettings::new(base_url, ApiKey::from_env(key_var))
    }

    /// Sets the base URL, trimmed, without trailing slashes.
    pub fn set_base_url(&mut self, base_url: String) {
        let trimmed = base_url.trim().trim_end_matches('/');
        self.base_url = if trimmed.len() == base_url.len() {
            base_url
        } else {
            trimmed.to_owned()
        };
    }
}

/// The builder methods every HTTP provider has, on a type with an `http: Http` field; `$key_var`
/// names the key's environment variable in their docs.
macro_rules! http_builder_methods {
    ($key_var:literal) => {
        #[doc = concat!("The API key (instead of `", $key_var, "`).")]
        pub fn api_key(mut self, key: impl Into<$crate::model::ApiKey>) -> Self {
            self.http.settings_mut().api_key = Some(key.into());
            self
        }

        /// The server's base URL (a proxy, a compatible server, a mock); a trailing `/` is
        /// dropped.
        pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
            self.http.settings_mut().set_base_url(base_url.into());
            self
        }

        /// How long one try of a non-streamed request may take, sending to the last byte
        /// (default 120 s).
        pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
            self.http.settings_mut().timeout = timeout;
            self
        }

        /// How long connecting may take (default 10 s).
        pub fn connect_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.http.settings_mut().connect_timeout = timeout;
            self
        }

        /// How long a response may go without a byte (default 60 s); it bounds a stream, whose
        /// keep-alives count.
        pub fn read_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.http.settings_mut().read_timeout = timeout;
            self
        }

        /// How long a streamed answer may take in all, from the request to its last byte,
        /// keep-alives or not (default 10 min); past it the stream ends with
        /// [`ModelError::StreamTimeout`](crate::ModelError::StreamTimeout).
        pub fn stream_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.http.settings_mut().stream_timeout = timeout;
            self
        }

        /// The largest answer read, in bytes, a whole body or all of a stream (default
        /// 32 MiB); a larger one is dropped with
        /// [`ModelError::ResponseTooLarge`](crate::ModelError::ResponseTooLarge).
        pub fn max_response_bytes(mut self, bytes: usize) -> Self {
            self.http.settings_mut().max_response_bytes = bytes;
            self
        }

        /// How many times a request is tried again after a 429, a 5xx, a connection error or a
        /// timeout (default 3).
        pub fn max_retries(mut self, retries: u32) -> Self {
            self.http.settings_mut().max_retries = retries;
            self
        }

        /// The first wait before a retry, doubled each time (with jitter) up to `max`, which
        /// also caps a server's `Retry-After` (defaults 500 ms and 30 s).
        pub fn backoff(mut self, initial: std::time::Duration, max: std::time::Duration) -> Self {
            let settings = self.http.settings_mut();
            settings.initial_backoff = initial;
            settings.max_backoff = max;
            self
        }

        /// A header sent with every request (an organisation, a project, a beta flag, a
        /// proxy's token). Mark a secret value sensitive (`HeaderValue::set_sensitive`) and
        /// it is never logged.
        pub fn header(
            mut self,
            name: $crate::model::HeaderName,
            value: $crate::model::HeaderValue,
        ) -> Self {
            self.http.settings_mut().headers.insert(name, value);
            self
        }

        /// The HTTP settings in use (base URL, timeouts, retries; the key never shows).
        pub fn settings(&self) -> &$crate::model::HttpSettings {
            self.http.settings()
        }
    };
}
pub(crate) use http_builder_methods;

impl fmt::Debug for HttpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpSettings")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("read_timeout", &self.read_timeout)
            .field("stream_timeout", &self.stream_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("max_retries", &self.max_retries)
            .field("initial_backoff", &self.initial_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A provider's HTTP client: the settings and a connection pool, made once per model (at its
/// first request, so a provider's constructor cannot fail and its builder methods may still
/// change the settings).
#[derive(Clone)]
pub(crate) struct Http {
    provider: &'static str,
    settings: HttpSettings,
    client: OnceLock<reqwest::Client>,
}

impl fmt::Debug for Http {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Http")
            .field("provider", &self.provider)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Http {
    /// A client for `provider` ("openai", "anthropic", …; it names the provider in errors).
    pub fn new(provider: &'static str, settings: HttpSettings) -> Self {
        Http {
            provider,
            settings,
            client: OnceLock::new(),
        }
    }

    /// The provider's name.
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// The settings.
    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// The settings, to change them (a provider's builder methods).
    pub fn settings_mut(&mut self) -> &mut HttpSettings {
        self.client = OnceLock::new();
        &mut self.settings
    }

    fn client(&self) -> Result<&reqwest::Client, ModelError> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let client = reqwest::Client::builder()
            .connect_timeout(self.settings.connect_timeout)
            .build()
            .map_err(|e| ModelError::Config {
                provider: self.provider.to_owned(),
                message: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(self.client.get_or_init(|| client))
    }

    /// The base URL joined with `path` (`"/chat/completions"`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.settings.base_url)
    }

    /// The key, or a configuration error naming the variable to set.
    pub fn require_key(&self, env_var: &str) -> Result<&ApiKey, ModelError> {
        self.settings
            .api_key
            .as_ref()
            .ok_or_else(|| ModelError::Config {
                provider: self.provider.to_owned(),
                message: format!("no API key: set {env_var} or give one to the builder"),
            })
    }

    /// POSTs a JSON `body` to `url` and reads the whole answer, at most
    /// [`HttpSettings::max_response_bytes`] of it. One timer, [`HttpSettings::timeout`], bounds
    /// each try from sending to the last byte.
    ///
    /// A 429, a 5xx, a connection error or a timeout is tried again — after the server's
    /// `Retry-After` if it gave one, else after an exponential backoff with jitter — at most
    /// [`HttpSettings::max_retries`] times. Any other failing status is [`ModelError::Http`] with
    /// the provider's own message, the key and other secret headers blanked out of it.
    pub async fn post(
        &self,
        url: &str,
        headers: HeaderMap,
        body: Vec<u8>,
    ) -> Result<bytes::Bytes, ModelError> {
        let limit = self.settings.timeout;
        let max = self.settings.max_response_bytes;
        let provider = self.provider;
        let read = |response| read_bounded(provider, response, max);
        let secrets = self.secrets(&headers);
        self.exchange(url, headers, body, limit, &secrets, read)
            .await
    }

    /// POSTs a JSON `body` to `url` and gives the events of the streamed answer, with the same
    /// retries as [`post`](Self::post) until the answer starts. [`HttpSettings::read_timeout`]
    /// bounds the wait for the answer and then for each piece of it;
    /// [`HttpSettings::stream_timeout`] bounds it all, and
    /// [`HttpSettings::max_response_bytes`] the bytes of the stream.
    ///
    /// A server that answers with a JSON body instead of an event stream (a proxy or a
    /// compatible server that ignores `stream`) gives an error saying so, with its message.
    pub async fn post_stream(
        &self,
        url: &str,
        headers: HeaderMap,
        body: Vec<u8>,
    ) -> Result<impl Stream<Item = Result<SseEvent, ModelError>> + Send + use<>, ModelError> {
        let limit = self.settings.read_timeout;
        let total = self.settings.stream_timeout;
        let deadline = tokio::time::Instant::now() + total;
        let provider = self.provider;
        let max = self.settings.max_response_bytes;
        let secrets = self.secrets(&headers);
        let head = |response: reqwest::Response| {
            let secrets = secrets.clone();
            async move {
                if !is_json(&response) {
                    return Ok(response);
                }
                // The whole JSON body, bounded: its message, if it is an error, says why.
                let bytes = read_bounded(provider, response, max.min(1024 * 1024)).await?;
                let text = redact(&String::from_utf8_lossy(&bytes), &secrets);
                Err(Failure::Model(ModelError::InvalidResponse {
                    provider: provider.to_owned(),
                    message: format!(
                        "the server answered the stream request with a JSON body, not an event \
                         stream (does it support `stream`?): {}",
                        error_message(&text)
                    ),
                }))
            }
        };
        let exchange = self.exchange(url, headers, body, limit, &secrets, head);
        let response = tokio::time::timeout_at(deadline, exchange)
            .await
            .map_err(|_| ModelError::StreamTimeout {
                provider: provider.to_owned(),
                limit: total,
            })??;
        let limits = sse::Limits {
            read_timeout: limit,
            deadline,
            total,
            max_bytes: max,
        };
        Ok(sse::events(self.provider, response, limits))
    }

    /// What must never show in an error: the key, and every header value marked sensitive (the
    /// per-request ones, such as `Authorization: Bearer …`, and the settings' own).
    fn secrets(&self, headers: &HeaderMap) -> Vec<String> {
        let mut secrets = Vec::new();
        if let Some(key) = &self.settings.api_key {
            secrets.push(key.expose().to_owned());
        }
        for value in headers.values().chain(self.settings.headers.values()) {
            if !value.is_sensitive() {
                continue;
            }
            if let Ok(text) = value.to_str() {
                secrets.push(text.to_owned());
                if let Some((_scheme, token)) = text.split_once(' ') {
                    secrets.push(token.trim().to_owned());
                }
            }
        }
        // Longest first, so a key inside a longer secret is blanked with it.
        secrets.retain(|s| s.len() >= 4);
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        secrets
    }

    /// The retry loop: each try sends the request and `read`s the successful answer, all within
    /// `limit`. `secrets` are blanked out of a failing status's message.
    async fn exchange<T, F, Fut>(
        &self,
        url: &str,
        headers: HeaderMap,
        body: Vec<u8>,
        limit: Duration,
        secrets: &[String],
        read: F,
    ) -> Result<T, ModelError>
    where
        F: Fn(reqwest::Response) -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let client = self.client()?;
        let body = bytes::Bytes::from(body);
        let mut attempt = 0u32;
        loop {
            let mut request = client.post(url);
            if !self.settings.headers.is_empty() {
                request = request.headers(self.settings.headers.clone());
            }
            let request = request
                .headers(headers.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
            let last = attempt >= self.settings.max_retries;
            let retry_after = match tokio::time::timeout(limit, try_once(request, &read)).await {
                Ok(Ok(Try::Answer(answer))) => return Ok(answer),
                Ok(Ok(Try::Status {
                    status,
                    retry_after,
                    body,
                })) => {
                    if last || !retryable(status) {
                        return Err(ModelError::Http {
                            provider: self.provider.to_owned(),
                            status: status.as_u16(),
                            message: error_message(&redact(&body, secrets)),
                        });
                    }
                    retry_after
                }
                Ok(Err(Failure::Model(error))) => return Err(error),
                Ok(Err(Failure::Transport(error))) => {
                    if last || !(error.is_connect() || error.is_timeout()) {
                        return Err(transport_error(self.provider, &error));
                    }
                    None
                }
                Err(_elapsed) => {
                    if last {
                        return Err(ModelError::Transport {
                            provider: self.provider.to_owned(),
                            message: format!("timed out after {limit:?}"),
                        });
                    }
                    None
                }
            };
            let wait = retry_after
                .unwrap_or_else(|| self.backoff(attempt))
                .min(self.settings.max_backoff);
            tracing::debug!(provider = self.provider, attempt, ?wait, "retrying");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// The wait before try `attempt + 1`: `initial_backoff * 2^attempt`, between half and all of
    /// it (jitter, so clients that failed together do not come back together).
    fn backoff(&self, attempt: u32) -> Duration {
        let full = self
            .settings
            .initial_backoff
            .saturating_mul(1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX))
            .min(self.settings.max_backoff);
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let fraction = 0.5 + (random % 1_000) as f64 / 2_000.0;
        full.mul_f64(fraction)
    }
}

/// What one try gives, short of a transport error.
enum Try<T> {
    /// The answer, as `read` made it.
    Answer(T),
    /// A failing status, with its body (read within the try's timer) and `Retry-After`.
    Status {
        status: StatusCode,
        retry_after: Option<Duration>,
        body: String,
    },
}

/// Why reading an answer failed: the transport (maybe tried again), or the answer itself
/// (never tried again).
pub(crate) enum Failure {
    Transport(reqwest::Error),
    Model(ModelError),
}

impl From<reqwest::Error> for Failure {
    fn from(error: reqwest::Error) -> Self {
        Failure::Transport(error)
    }
}

/// How much of a failing status's body is read: enough for any provider's error message.
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

async fn try_once<T, F, Fut>(request: reqwest::RequestBuilder, read: &F) -> Result<Try<T>, Failure>
where
    F: Fn(reqwest::Response) -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let response = request.send().await?;
    let status = response.status();
    if status.is_success() {
        return Ok(Try::Answer(read(response).await?));
    }
    let retry_after = retry_after(response.headers(), std::time::SystemTime::now());
    let body = read_prefix(response, MAX_ERROR_BODY_BYTES)
        .await
        .unwrap_or_default();
    Ok(Try::Status {
        status,
        retry_after,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// The whole body, or [`ModelError::ResponseTooLarge`] as soon as it (or its announced length)
/// is over `max` bytes.
async fn read_bounded(
    provider: &'static str,
    mut response: reqwest::Response,
    max: usize,
) -> Result<bytes::Bytes, Failure> {
    let too_large = || {
        Failure::Model(ModelError::ResponseTooLarge {
            provider: provider.to_owned(),
            limit: max,
        })
    };
    let announced = response.content_length().unwrap_or(0);
    if announced > max as u64 {
        return Err(too_large());
    }
    let mut body = bytes::BytesMut::with_capacity(announced as usize);
    while let Some(chunk) = response.chunk().await? {
        if chunk.len() > max - body.len() {
            return Err(too_large());
        }
        if body.is_empty() && chunk.len() == announced as usize {
            // The whole body in one piece: no copy.
            return Ok(chunk);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The first `max` bytes of the body (the rest is not read).
async fn read_prefix(mut response: reqwest::Response, max: usize) -> reqwest::Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = max - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() == max {
            break;
        }
    }
    Ok(body)
}

/// Whether a successful answer is JSON (a stream request answered without a stream).
fn is_json(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim();
            mime.eq_ignore_ascii_case("application/json")
                || mime.to_ascii_lowercase().ends_with("+json")
        })
}

/// `text` with every secret replaced by `<redacted>`.
pub(crate) fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for secret in secrets {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "<redacted>");
        }
    }
    out
}

/// The message of a provider's error body.
pub(crate) fn error_message(body: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Body {
        error: Inner,
    }
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Inner {
        Object { message: String },
        Text(String),
    }
    match serde_json::from_str::<Body>(body) {
        Ok(Body {
            error: Inner::Object { message } | Inner::Text(message),
        }) => message,
        Err(_) => {
            let body = body.trim();
            let cut = body.char_indices().nth(500).map_or(body.len(), |(i, _)| i);
            body[..cut].to_owned()
        }
    }
}

/// A transport failure, without the URL (it may carry a key in a query string).
pub(crate) fn transport_error(provider: &'static str, error: &reqwest::Error) -> ModelError {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else if error.is_body() || error.is_decode() {
        "the response body broke off"
    } else {
        "request failed"
    };
    let mut message = what.to_owned();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    ModelError::Transport {
        provider: provider.to_owned(),
        message,
    }
}

fn retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// The server's `retry-after-ms` (OpenAI), or `Retry-After` in seconds or as an HTTP date
/// (the wait from `now` until then; none when it is past).
fn retry_after(headers: &HeaderMap, now: std::time::SystemTime) -> Option<Duration> {
    let text = |name: &str| Some(headers.get(name)?.to_str().ok()?.trim());
    let number = |name: &str| text(name)?.parse::<f64>().ok();
    let ms = number("retry-after-ms").map(|ms| ms / 1000.0);
    let secs = ms.or_else(|| number("retry-after")).or_else(|| {
        let date = httpdate::parse_http_date(text("retry-after")?).ok()?;
        Some(date.duration_since(now).ok()?.as_secs_f64())
    })?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

/// A header value that holds a secret: marked sensitive, so reqwest and hyper never log it.
pub(crate) fn secret_header(
    provider: &'static str,
    value: &str,
) -> Result<HeaderValue, ModelError> {
    let mut value = HeaderValue::from_str(value).map_err(|_| ModelError::Config {
        provider: provider.to_owned(),
        message: "the API key holds characters a header cannot carry".to_owned(),
    })?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let settings = HttpSettings::new("http://x/v1/", Some(ApiKey::new("sk-secret-123")));
        let shown = format!("{settings:?} {:?}", settings.api_key);
        assert!(!shown.contains("sk-secret"), "{shown}");
        assert!(shown.contains("redacted"));
        assert_eq!(settings.base_url, "http://x/v1");
    }

    #[test]
    fn retry_after_in_seconds_or_milliseconds() {
        let now = std::time::SystemTime::now();
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers, now), None);
        headers.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(2)));
        headers.insert("retry-after-ms", HeaderValue::from_static("150"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_millis(150)));
        headers.insert("retry-after-ms", HeaderValue::from_static("-1"));
        headers.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
    }

    #[test]
    fn retry_after_as_an_http_date() {
        // Wed, 21 Oct 2015 07:28:00 GMT
        let date = std::time::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        let mut headers = HeaderMap::new();
        headers.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        let now = date - Duration::from_secs(7);
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));
        // A date already past: no wait from the server (the backoff applies).
        let later = date + Duration::from_secs(3);
        assert_eq!(retry_after(&headers, later), None);
        // The obsolete RFC 850 form is an HTTP date too.
        headers.insert(
            "retry-after",
            HeaderValue::from_static("Wednesday, 21-Oct-15 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));
    }

    #[test]
    fn redaction_blanks_every_secret() {
        let secrets = vec!["sk-secret-123".to_owned(), "tok".to_owned()];
        assert_eq!(
            redact("bad key sk-secret-123 (sk-secret-123)", &secrets),
            "bad key <redacted> (<redacted>)"
        );
        let mut headers = HeaderMap::new();
        let mut auth = HeaderValue::from_static("Bearer sk-proxy-token-9");
        auth.set_sensitive(true);
        headers.insert("authorization", auth);
        headers.insert("x-plain", HeaderValue::from_static("visible-value"));
        let http = Http::new(
            "test",
            HttpSettings::new("http://x", Some(ApiKey::new("sk-secret-123"))),
        );
        let secrets = http.secrets(&headers);
        let shown = redact(
            "echo: Bearer sk-proxy-token-9 / sk-proxy-token-9 / sk-secret-123 / visible-value",
            &secrets,
        );
        assert_eq!(
            shown,
            "echo: <redacted> / <redacted> / <redacted> / visible-value"
        );
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let mut settings = HttpSettings::new("http://x", None);
        settings.initial_backoff = Duration::from_millis(100);
        settings.max_backoff = Duration::from_secs(1);
        let http = Http::new("test", settings);
        for (attempt, full) in [
            (0, 100),
            (1, 200),
            (2, 400),
            (3, 800),
            (4, 1000),
            (60, 1000),
        ] {
            let wait = http.backoff(attempt);
            let full = Duration::from_millis(full);
            assert!(wait >= full / 2 && wait <= full, "{attempt}: {wait:?}");
        }
    }

    #[test]
    fn error_messages_from_provider_bodies() {
        assert_eq!(
            error_message(r#"{"error":{"message":"Invalid key","type":"auth"}}"#),
            "Invalid key"
        );
        assert_eq!(
            error_message(
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
            ),
            "Overloaded"
        );
        assert_eq!(
            error_message(r#"{"error":"model not found"}"#),
            "model not found"
        );
        assert_eq!(error_message(" bad gateway \n"), "bad gateway");
        assert_eq!(error_message(&"é".repeat(900)).chars().count(), 500);
    }
}
