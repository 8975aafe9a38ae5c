//! [`HttpTools`]: HTTP GET and POST with a timeout and a response size limit.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::Duration;

use kern_core::ToolError;
use kern_macros::{Toolkit, toolkit_methods};
use reqwest::{Client, RequestBuilder, Url};

use crate::root::lossy;

/// HTTP requests: `http_get`, `http_post`.
///
/// **`http_post` requires confirmation** (`#[toolkit(requires_confirmation = [http_post])]`):
/// a POST changes things elsewhere, so the run pauses until the host confirms or rejects it;
/// `http_get` runs inside the agent. To drop a method, use
/// [`into_toolkit().exclude([..])`](kern_core::Toolkit::exclude).
///
/// Only `http` and `https` URLs are accepted; any other scheme is refused with a tool error.
/// Limits:
/// - [`timeout`](Self::timeout) (30 s): for the whole request, from connecting until the body
///   is read; past it the call fails with a tool error;
/// - [`max_response_bytes`](Self::max_response_bytes) (256 KiB): the body is read chunk by chunk
///   and reading **stops** past the limit; the result holds the first bytes and a last line
///   saying the body was truncated. A larger body is never buffered.
///
/// The result of a call is the status line, the `content-type`, a blank line and the body (as
/// text, invalid UTF-8 replaced). A 4xx or 5xx status is a result too, not an error: the model
/// sees it and can act on it. Errors are for requests that got no response (refused connection,
/// timeout, invalid URL or header).
///
/// The tools do not restrict hosts: an agent with `HttpTools` can reach whatever the program can
/// (including `localhost`). Give your own [`Client`] ([`client`](Self::client)) for proxies,
/// default headers or another redirect policy.
///
/// ```
/// use std::time::Duration;
/// use kern_core::{ExecutionMode, IntoTools};
/// use kern_toolkit::HttpTools;
///
/// let http = HttpTools::new()
///     .timeout(Duration::from_secs(5))
///     .max_response_bytes(64 * 1024);
/// let mut tools = Vec::new();
/// http.into_tools(&mut tools)?;
/// assert_eq!(tools[0].definition().name, "http_get");
/// assert_eq!(tools[0].definition().mode, ExecutionMode::Internal);
/// assert_eq!(tools[1].definition().mode, ExecutionMode::RequiresConfirmation);
/// # Ok::<(), kern_core::Error>(())
/// ```
#[derive(Debug, Toolkit)]
#[toolkit(crate = "kern_core", requires_confirmation = [http_post])]
pub struct HttpTools {
    client: OnceLock<Client>,
    timeout: Duration,
    max_response_bytes: usize,
}

impl Default for HttpTools {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpTools {
    /// HTTP tools with the default limits and a default client (made at the first request).
    pub fn new() -> Self {
        HttpTools {
            client: OnceLock::new(),
            timeout: Duration::from_secs(30),
            max_response_bytes: 256 * 1024,
        }
    }

    /// How long a request may take, from connecting until its body is read.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many bytes of a response body are read; reading stops past them.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Sends the requests with this client (the timeout and size limit still apply).
    pub fn client(mut self, client: Client) -> Self {
        self.client = OnceLock::from(client);
        self
    }

    fn get_client(&self) -> Result<&Client, ToolError> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let client = Client::builder()
            .build()
            .map_err(|e| ToolError::new(format!("the HTTP client could not be made: {e}")))?;
        Ok(self.client.get_or_init(|| client))
    }

    /// Checks the URL, adds the headers and the timeout, sends, reads the bounded body.
    async fn send(
        &self,
        url: &str,
        headers: Option<BTreeMap<String, String>>,
        request: impl FnOnce(&Client, Url) -> RequestBuilder,
    ) -> Result<String, ToolError> {
        let url = parse_url(url)?;
        let mut builder = request(self.get_client()?, url.clone()).timeout(self.timeout);
        for (name, value) in headers.into_iter().flatten() {
            builder = builder.header(name, value);
        }
        let mut response = builder
            .send()
            .await
            .map_err(|e| self.request_error(&url, &e))?;

        let status = response.status();
        let mut out = format!(
            "status: {} {}",
            status.as_str(),
            status.canonical_reason().unwrap_or("")
        );
        let _ = write!(
            out,
            "\ncontent-type: {}\n\n",
            response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("(none)")
        );

        let max = self.max_response_bytes;
        let mut body = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.request_error(&url, &e))?
        {
            let room = max - body.len();
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        out.push_str(&lossy(&body, truncated));
        if truncated {
            let _ = write!(
                out,
                "\n[truncated: the body is longer than {max} bytes; the rest was not read]"
            );
        }
        Ok(out)
    }

    fn request_error(&self, url: &Url, e: &reqwest::Error) -> ToolError {
        if e.is_timeout() {
            ToolError::new(format!(
                "the request to {url} timed out after {:?}",
                self.timeout
            ))
        } else if e.is_builder() {
            ToolError::new(format!("the request to {url} is invalid: {e}"))
        } else {
            // reqwest's message plus its sources (e.g. "connection refused").
            let mut message = format!("the request to {url} failed: {e}");
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                let _ = write!(message, ": {s}");
                source = s.source();
            }
            ToolError::new(message)
        }
    }
}

#[toolkit_methods(crate = "kern_core")]
impl HttpTools {
    /// Fetches a URL with an HTTP GET request; gives the status, the content type and the body.
    ///
    /// # Arguments
    /// * `url` - The http or https URL
    /// * `headers` - Request headers, name to value
    pub async fn http_get(
        &self,
        url: String,
        headers: Option<BTreeMap<String, String>>,
    ) -> Result<String, ToolError> {
        self.send(&url, headers, |client, url| client.get(url))
            .await
    }

    /// Sends a body to a URL with an HTTP POST request; gives the status, the content type and
    /// the response body.
    ///
    /// # Arguments
    /// * `url` - The http or https URL
    /// * `body` - The request body
    /// * `content_type` - The body's content type (default: application/json)
    /// * `headers` - Other request headers, name to value
    pub async fn http_post(
        &self,
        url: String,
        body: String,
        content_type: Option<String>,
        headers: Option<BTreeMap<String, String>>,
    ) -> Result<String, ToolError> {
        let content_type = content_type.unwrap_or_else(|| "application/json".to_owned());
        self.send(&url, headers, move |client, url| {
            client
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body)
        })
        .await
    }
}

/// An http or https URL, or a tool error saying why not.
fn parse_url(url: &str) -> Result<Url, ToolError> {
    let parsed =
        Url::parse(url).map_err(|e| ToolError::new(format!("`{url}` is not a valid URL: {e}")))?;
    match parsed.scheme() {
        "http" | "https" => Ok(parsed),
        other => Err(ToolError::new(format!(
            "`{url}`: the scheme `{other}` is not allowed; only http and https URLs are"
        ))),
    }
}
