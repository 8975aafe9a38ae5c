//! [`HttpTools`]: HTTP GET and POST with a timeout and a response size limit.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use kern_core::ToolError;
use kern_macros::{Toolkit, toolkit_methods};
use reqwest::{Client, RequestBuilder, Url};

use crate::address::{AddressPolicy, GuardedResolver, Lookup, system_lookup};
use crate::root::lossy;

/// Redirects followed at most (reqwest's default too).
const MAX_REDIRECTS: usize = 10;

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
/// **Only public addresses** are reached by default. Loopback (`127.0.0.0/8`, `::1`), private
/// (`10/8`, `172.16/12`, `192.168/16`, `fc00::/7`), link-local (`169.254/16` with the cloud
/// metadata address, `fe80::/10`), shared (`100.64/10`), multicast, reserved and unspecified
/// addresses are refused with a tool error, also as IPv4-mapped or otherwise embedded IPv6
/// addresses. The check is made on the address actually connected to: every address a name
/// resolves to (a resolver of the client's, so a name that resolves to a refused address is
/// never connected to), an address written in the URL, and again on every redirect (at most
/// 10). A host opts a network in with [`allow_network`](Self::allow_network) (a test server on
/// `127.0.0.1`, an intranet). The default client uses no proxy (a proxy would resolve the names
/// itself, out of reach of the check).
///
/// Give your own [`Client`] ([`client`](Self::client)) for proxies, default headers or another
/// redirect policy: its resolver and redirects are then its own, and only the addresses written
/// in URLs are still checked here.
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
#[derive(Toolkit)]
#[toolkit(crate = "kern_core", requires_confirmation = [http_post])]
pub struct HttpTools {
    client: OnceLock<Client>,
    /// The client is the host's own ([`client`](Self::client)): kept when the policy changes.
    own_client: bool,
    timeout: Duration,
    max_response_bytes: usize,
    policy: AddressPolicy,
    /// How the default client looks names up (a stand-in in tests).
    lookup: Lookup,
}

impl std::fmt::Debug for HttpTools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTools")
            .field("client", &self.client)
            .field("timeout", &self.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
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
            own_client: false,
            timeout: Duration::from_secs(30),
            max_response_bytes: 256 * 1024,
            policy: AddressPolicy::default(),
            lookup: system_lookup(),
        }
    }

    /// Allows the network `addr/prefix_len` (say `127.0.0.1`/32 for a local test server,
    /// `10.0.0.0`/8 for an intranet), which is refused by default. Call it once a network; the
    /// public internet needs none.
    pub fn allow_network(mut self, addr: IpAddr, prefix_len: u8) -> Self {
        self.policy.allow(addr, prefix_len);
        if !self.own_client {
            // The default client carries the policy: made again at the next request.
            self.client = OnceLock::new();
        }
        self
    }

    /// Looks names up with `lookup` instead of the system's resolver (tests: a name that
    /// resolves to a private address, with no traffic to it).
    #[cfg(test)]
    fn with_lookup(mut self, lookup: Lookup) -> Self {
        self.lookup = lookup;
        self.client = OnceLock::new();
        self
    }

    /// Allows the one address `addr` (see [`allow_network`](Self::allow_network)).
    pub fn allow_ip(self, addr: IpAddr) -> Self {
        self.allow_network(addr, 128)
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
        self.own_client = true;
        self
    }

    fn get_client(&self) -> Result<&Client, ToolError> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let policy = Arc::new(self.policy.clone());
        let resolver = GuardedResolver {
            policy: policy.clone(),
            lookup: self.lookup.clone(),
        };
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
            }
            match check_url(attempt.url(), &policy) {
                Ok(()) => attempt.follow(),
                Err(why) => attempt.error(format!("the redirect is refused: {why}")),
            }
        });
        let client = Client::builder()
            .dns_resolver(Arc::new(resolver))
            .redirect(redirects)
            .no_proxy()
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
        check_url(&url, &self.policy)
            .map_err(|why| ToolError::new(format!("the request to {url} is refused: {why}")))?;
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

/// A redirect's scheme, and an address written in a URL (a name is checked when it is
/// resolved): `Err` says why it is refused.
fn check_url(url: &Url, policy: &AddressPolicy) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the scheme `{}` is not allowed; only http and https URLs are",
            url.scheme()
        ));
    }
    let Some(host) = url.host_str() else {
        return Err("the URL has no host".to_owned());
    };
    // The URL parser has normalised a written address (`0x7f.1`, `2130706433` are
    // `127.0.0.1`); an IPv6 one is in brackets.
    let literal = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let Ok(ip) = literal.parse::<IpAddr>() else {
        return Ok(());
    };
    match policy.refusal(ip) {
        Some(why) => Err(why),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    /// `allowed.test` is 127.0.0.1 (the mock), `internal.test` a private address nothing is
    /// ever sent to (the resolver refuses it before a connection).
    fn names() -> Lookup {
        Arc::new(|name: String| {
            Box::pin(async move {
                match name.as_str() {
                    "allowed.test" => Ok(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]),
                    "internal.test" => Ok(vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5))]),
                    "mixed.test" => Ok(vec![
                        IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
                        IpAddr::V4(Ipv4Addr::LOCALHOST),
                    ]),
                    _ => Err(std::io::Error::other("unknown name")),
                }
            })
        })
    }

    #[tokio::test]
    async fn a_name_resolving_to_a_private_address_is_refused_directly_and_after_a_redirect() {
        let server = MockServer::start().await;
        let port = server.address().port();
        Mock::given(method("GET"))
            .and(path("/start"))
            .respond_with(
                ResponseTemplate::new(302)
                    .insert_header("location", format!("http://internal.test:{port}/secret")),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/ok"))
            .respond_with(ResponseTemplate::new(200).set_body_string("fine"))
            .mount(&server)
            .await;
        let http = HttpTools::new()
            .allow_ip(IpAddr::V4(Ipv4Addr::LOCALHOST))
            .with_lookup(names());

        let out = http
            .http_get(format!("http://allowed.test:{port}/ok"), None)
            .await
            .unwrap();
        assert!(out.ends_with("fine"), "{out}");

        for url in [
            format!("http://internal.test:{port}/secret"),
            format!("http://allowed.test:{port}/start"),
        ] {
            let err = http.http_get(url.clone(), None).await.unwrap_err();
            assert!(
                err.message().contains(
                    "`internal.test` resolves to no allowed address (10.0.0.5 is a private address"
                ),
                "{url}: {}",
                err.message()
            );
        }
        // Of a name's addresses, only the allowed ones are connected to.
        let out = http
            .http_get(format!("http://mixed.test:{port}/ok"), None)
            .await
            .unwrap();
        assert!(out.ends_with("fine"), "{out}");
        // The mock saw the two allowed requests and the redirect, nothing else.
        let paths: Vec<String> = server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .map(|r| r.url.path().to_owned())
            .collect();
        assert_eq!(paths, ["/ok", "/start", "/ok"]);
    }
}
