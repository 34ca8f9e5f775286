//! The community dashboard: a few static files (HTML, ES modules, CSS, a vendored chart library)
//! embedded in the binary and served on the JSON-RPC HTTP port under `/` and `/dashboard/`.
//! The page only talks JSON-RPC to the node that served it, so it shows nothing that JSON-RPC
//! would not; the one thing it learns here is whether the node lets it buy with an unlocked
//! account (`/dashboard/config.json`).
//!
//! It is a tower layer in front of jsonrpsee: GET requests for the page are answered here, every
//! other request (JSON-RPC POSTs, WebSocket upgrades) goes on to the server untouched.

#[cfg(test)]
mod abi_tests;
mod assets;

pub use assets::{Asset, ASSETS};

use futures::future::BoxFuture;
use futures::FutureExt;
use jsonrpsee::core::BoxError;
use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use std::sync::Arc;
use std::task::{Context, Poll};

/// What the dashboard may do on this node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DashboardOptions {
    /// Purchases may be paid from the node's unlocked accounts (`dev`, or `--dashboard.buy`).
    pub unlocked_buy: bool,
}

/// Serves the dashboard in front of the JSON-RPC service.
#[derive(Debug, Clone)]
pub struct DashboardLayer {
    config: Arc<[u8]>,
}

impl DashboardLayer {
    /// A layer serving the embedded files with these options.
    pub fn new(options: &DashboardOptions) -> Self {
        let config = serde_json::json!({
            "unlockedBuy": options.unlocked_buy,
            "version": env!("CARGO_PKG_VERSION"),
        });
        Self { config: config.to_string().into_bytes().into() }
    }
}

impl<S> tower::Layer<S> for DashboardLayer {
    type Service = Dashboard<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Dashboard { inner, config: self.config.clone() }
    }
}

/// The service [`DashboardLayer`] makes.
#[derive(Debug, Clone)]
pub struct Dashboard<S> {
    inner: S,
    config: Arc<[u8]>,
}

impl<S, B> tower::Service<HttpRequest<B>> for Dashboard<S>
where
    S: tower::Service<HttpRequest<B>, Response = HttpResponse>,
    S::Error: Into<BoxError> + 'static,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<HttpResponse, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: HttpRequest<B>) -> Self::Future {
        match page_request(&request) {
            Some(path) => {
                let response = respond(&request, &path, &self.config);
                async move { Ok(response) }.boxed()
            }
            None => {
                let future = self.inner.call(request);
                async move { future.await.map_err(Into::into) }.boxed()
            }
        }
    }
}

/// The asset path a request asks for, if it is a request for the page: a GET or HEAD that is
/// not a WebSocket upgrade, for `/`, `/dashboard` or something under `/dashboard/`.
fn page_request<B>(request: &HttpRequest<B>) -> Option<String> {
    let method = request.method();
    if method != "GET" && method != "HEAD" {
        return None;
    }
    if request.headers().contains_key("upgrade") {
        return None;
    }
    match request.uri().path() {
        "/" | "/dashboard" | "/dashboard/" => Some("index.html".into()),
        path => path.strip_prefix("/dashboard/").map(str::to_string),
    }
}

fn respond<B>(request: &HttpRequest<B>, path: &str, config: &Arc<[u8]>) -> HttpResponse {
    let head = request.method() == "HEAD";
    if path == "config.json" {
        return reply(200, "application/json", None, config.to_vec(), head);
    }
    let Some(asset) = assets::find(path) else {
        return reply(404, "text/plain; charset=utf-8", None, b"not found\n".to_vec(), head);
    };
    let (gzipped, gz_etag) = asset.gzipped();
    let gzip = accepts_gzip(request) && !gzipped.is_empty() && gzipped.len() < asset.bytes.len();
    let (etag, body, encoding) =
        if gzip { (gz_etag, gzipped, Some("gzip")) } else { (asset.etag(), asset.bytes, None) };
    let cached = request
        .headers()
        .get("if-none-match")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if cached {
        return reply(304, asset.content_type, Some(&etag), Vec::new(), true);
    }
    let mut response = reply(200, asset.content_type, Some(&etag), body.to_vec(), head);
    if let Some(Ok(value)) = encoding.map(str::parse) {
        response.headers_mut().insert("content-encoding", value);
    }
    response
}

/// Whether the browser takes gzip (`Accept-Encoding`, a `q=0` refusing it).
fn accepts_gzip<B>(request: &HttpRequest<B>) -> bool {
    let Some(accepted) = request.headers().get("accept-encoding").and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    accepted.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let refused = parts.any(|p| p.replace(' ', "") == "q=0" || p.replace(' ', "") == "q=0.0");
        name.eq_ignore_ascii_case("gzip") && !refused
    })
}

/// The page may load only what the node serves and talk only to the node (`'self'` covers its
/// WebSocket too): a browser enforces that no request leaves for anywhere else.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; manifest-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

fn reply(
    status: u16,
    content_type: &str,
    etag: Option<&str>,
    body: Vec<u8>,
    head: bool,
) -> HttpResponse {
    let length = body.len();
    let mut builder = HttpResponse::builder()
        .status(status)
        .header("content-type", content_type)
        .header("content-length", length)
        .header("cache-control", "no-cache")
        .header("content-security-policy", CONTENT_SECURITY_POLICY)
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "no-referrer")
        // The dashboard's files are gzipped for browsers that take it.
        .header("vary", "accept-encoding");
    if let Some(etag) = etag {
        builder = builder.header("etag", etag);
    }
    let body = if head { HttpBody::from(Vec::new()) } else { HttpBody::from(body) };
    builder.body(body).unwrap_or_else(|_| HttpResponse::new(HttpBody::from("internal error")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> HttpRequest<()> {
        HttpRequest::builder().method("GET").uri(path).body(()).expect("request")
    }

    #[test]
    fn the_page_paths_are_served_and_everything_else_goes_to_json_rpc() {
        assert_eq!(page_request(&get("/")), Some("index.html".into()));
        assert_eq!(page_request(&get("/dashboard")), Some("index.html".into()));
        assert_eq!(page_request(&get("/dashboard/app.js")), Some("app.js".into()));
        assert_eq!(page_request(&get("/health")), None);
        let post = HttpRequest::builder().method("POST").uri("/").body(()).expect("request");
        assert_eq!(page_request(&post), None, "JSON-RPC over HTTP");
        let upgrade = HttpRequest::builder()
            .method("GET")
            .uri("/")
            .header("upgrade", "websocket")
            .body(())
            .expect("request");
        assert_eq!(page_request(&upgrade), None, "WebSocket JSON-RPC");
    }

    #[test]
    fn unknown_files_and_escapes_are_not_found() {
        let config: Arc<[u8]> = Arc::from(&b"{}"[..]);
        for path in ["nope.js", "../Cargo.toml", "vendor/../../src/main.rs", ""] {
            let response = respond(&get("/dashboard/x"), path, &config);
            assert_eq!(response.status(), 404, "{path}");
        }
    }

    #[test]
    fn files_are_gzipped_for_browsers_that_take_it_and_not_for_others() {
        let config: Arc<[u8]> = Arc::from(&b"{}"[..]);
        let asking = |accept: Option<&str>| {
            let mut request = HttpRequest::builder().uri("/dashboard/data.js");
            if let Some(accept) = accept {
                request = request.header("accept-encoding", accept);
            }
            respond(&request.body(()).expect("request"), "data.js", &config)
        };
        let plain = asking(None);
        assert!(plain.headers().get("content-encoding").is_none());
        assert_eq!(plain.headers()["vary"], "accept-encoding");
        let gzipped = asking(Some("gzip, deflate, br"));
        assert_eq!(gzipped.headers()["content-encoding"], "gzip");
        let length = |r: &HttpResponse| -> usize {
            r.headers()["content-length"].to_str().expect("length").parse().expect("number")
        };
        assert!(
            length(&gzipped) * 2 < length(&plain),
            "{} of {}",
            length(&gzipped),
            length(&plain)
        );
        assert_ne!(gzipped.headers()["etag"], plain.headers()["etag"], "two representations");
        assert!(asking(Some("gzip;q=0, br")).headers().get("content-encoding").is_none());
        assert!(asking(Some("identity")).headers().get("content-encoding").is_none());
        // Revalidating the gzipped copy by its own ETag.
        let etag = gzipped.headers()["etag"].to_str().expect("etag").to_string();
        let again = HttpRequest::builder()
            .uri("/dashboard/data.js")
            .header("accept-encoding", "gzip")
            .header("if-none-match", etag)
            .body(())
            .expect("request");
        assert_eq!(respond(&again, "data.js", &config).status(), 304);
    }

    #[test]
    fn a_known_etag_is_answered_not_modified() {
        let config: Arc<[u8]> = Arc::from(&b"{}"[..]);
        let first = respond(&get("/"), "index.html", &config);
        assert_eq!(first.status(), 200);
        let etag = first.headers()["etag"].to_str().expect("etag").to_string();
        let again = HttpRequest::builder()
            .uri("/")
            .header("if-none-match", etag)
            .body(())
            .expect("request");
        assert_eq!(respond(&again, "index.html", &config).status(), 304);
    }
}
