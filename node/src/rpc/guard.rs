//! Who may talk to a JSON-RPC server, checked before jsonrpsee reads a byte of the body, as
//! go-ethereum does: the `Host` header against the virtual hosts (`--http.vhosts`, which defeats
//! DNS rebinding), a browser's `Origin` against the origins it may come from (`--http.corsdomain`
//! for HTTP, `--ws.origins` for WebSocket upgrades; a page the node served itself always may),
//! and whether the caller may use the node's unlocked accounts (see [`Caller`]).
//!
//! A request without `Origin` is a non-browser client (curl, ethers in Node, web3.py) and passes
//! the origin check; browsers always send `Origin` on WebSocket upgrades and cross-origin POSTs.

use futures::future::BoxFuture;
use futures::FutureExt;
use jsonrpsee::core::BoxError;
use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use std::sync::Arc;
use std::task::{Context, Poll};

/// Methods that sign with the node's unlocked accounts (or vote with its signer key).
pub const SIGNING_METHODS: &[&str] =
    &["eth_sendTransaction", "eth_signTransaction", "eth_sign", "clique_propose", "clique_discard"];

/// Who may reach one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPolicy {
    /// Host names accepted in the `Host` header (IP literals always are; `*` for any).
    pub vhosts: Vec<String>,
    /// Origins browsers may POST from (`*` for any).
    pub http_origins: Vec<String>,
    /// Origins browsers may open a WebSocket from (`*` for any).
    pub ws_origins: Vec<String>,
    /// Whether this server may use the unlocked accounts at all: false on a non-loopback
    /// address unless `--allow-insecure-unlock`.
    pub unlocked: bool,
}

impl Default for AccessPolicy {
    fn default() -> Self {
        Self {
            vhosts: vec!["localhost".into()],
            http_origins: vec![],
            ws_origins: vec![],
            unlocked: true,
        }
    }
}

/// What the guard learnt about a request; handed to the methods in the request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// `None` when the caller may sign with the unlocked accounts, else why not.
    pub signing_refused: Option<String>,
}

/// Why a request was turned away.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    Host(String),
    Origin(String),
}

impl AccessPolicy {
    /// Judges a request from its headers: refused, or let in with what it may do.
    fn judge(
        &self,
        host: Option<&str>,
        origin: Option<&str>,
        upgrade: bool,
    ) -> Result<Caller, Refusal> {
        if let Some(host) = host {
            if !self.host_allowed(host) {
                return Err(Refusal::Host(host.to_string()));
            }
        }
        let mut signing_refused = (!self.unlocked).then(|| {
            "account unlock with HTTP access is forbidden: this server listens beyond loopback \
             (start with --allow-insecure-unlock to allow it)"
                .to_string()
        });
        if let Some(origin) = origin {
            let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
            let same = host.is_some_and(|h| same_origin(&origin, h));
            let list = if upgrade { &self.ws_origins } else { &self.http_origins };
            let named = list.iter().any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(&origin));
            let any = list.iter().any(|o| o == "*");
            if !(same || named || any) {
                return Err(Refusal::Origin(origin));
            }
            if !same && !named && signing_refused.is_none() {
                signing_refused = Some(format!(
                    "unlocked accounts are not offered to pages of other sites ({origin}): \
                     name the origin in --http.corsdomain / --ws.origins, or sign in the page's \
                     wallet"
                ));
            }
        }
        Ok(Caller { signing_refused })
    }

    fn host_allowed(&self, host: &str) -> bool {
        let name = host_name(host);
        self.vhosts.iter().any(|v| v == "*" || v.eq_ignore_ascii_case(&name))
            || name.parse::<std::net::IpAddr>().is_ok()
    }
}

/// The host part of a `Host` header (`name:port`, `[v6]:port`, `name`), lower case.
fn host_name(host: &str) -> String {
    let host = host.trim();
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').filter(|(_, p)| p.parse::<u16>().is_ok()).map_or(host, |(n, _)| n)
    };
    name.to_ascii_lowercase()
}

/// Whether `origin` (`scheme://authority`) names the server the request reached (`host`).
fn same_origin(origin: &str, host: &str) -> bool {
    let authority = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
    authority.is_some_and(|a| a.eq_ignore_ascii_case(host.trim()))
}

/// Puts an [`AccessPolicy`] in front of the JSON-RPC service.
#[derive(Debug, Clone)]
pub(super) struct GuardLayer {
    policy: Arc<AccessPolicy>,
}

impl GuardLayer {
    /// A layer enforcing `policy`.
    pub(super) fn new(policy: AccessPolicy) -> Self {
        Self { policy: Arc::new(policy) }
    }
}

impl<S> tower::Layer<S> for GuardLayer {
    type Service = Guard<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Guard { inner, policy: self.policy.clone() }
    }
}

/// The service [`GuardLayer`] makes.
#[derive(Debug, Clone)]
pub(super) struct Guard<S> {
    inner: S,
    policy: Arc<AccessPolicy>,
}

impl<S, B> tower::Service<HttpRequest<B>> for Guard<S>
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

    fn call(&mut self, mut request: HttpRequest<B>) -> Self::Future {
        let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
        let upgrade = header("upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
        let host = header("host")
            .map(str::to_string)
            .or_else(|| request.uri().authority().map(|a| a.as_str().to_string()));
        let origin = header("origin").map(str::to_string);
        match self.policy.judge(host.as_deref(), origin.as_deref(), upgrade) {
            Ok(caller) => {
                request.extensions_mut().insert(caller);
                let future = self.inner.call(request);
                async move { future.await.map_err(Into::into) }.boxed()
            }
            Err(refusal) => {
                let text = match &refusal {
                    Refusal::Host(h) => {
                        tracing::warn!(target: "daisee::rpc", host = %h, "refused a request for a host not in --http.vhosts");
                        "invalid host specified\n".to_string()
                    }
                    Refusal::Origin(o) => {
                        tracing::warn!(target: "daisee::rpc", origin = %o, websocket = upgrade, "refused a request from a foreign origin");
                        format!("origin {o} not allowed\n")
                    }
                };
                let response = HttpResponse::builder()
                    .status(403)
                    .header("content-type", "text/plain; charset=utf-8")
                    .body(HttpBody::from(text))
                    .unwrap_or_else(|_| HttpResponse::new(HttpBody::empty()));
                async move { Ok(response) }.boxed()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> AccessPolicy {
        AccessPolicy::default()
    }

    #[test]
    fn hosts_are_localhost_or_ip_literals_by_default() {
        let p = policy();
        for host in ["localhost:8545", "LOCALHOST", "127.0.0.1:8545", "[::1]:8545", "10.0.0.5"] {
            assert!(p.judge(Some(host), None, false).is_ok(), "{host}");
        }
        for host in ["evil.example:8545", "localhost.evil.example", "board.local"] {
            assert_eq!(p.judge(Some(host), None, false), Err(Refusal::Host(host.into())));
        }
        let any = AccessPolicy { vhosts: vec!["*".into()], ..policy() };
        assert!(any.judge(Some("board.local"), None, false).is_ok());
        let named = AccessPolicy { vhosts: vec!["board.local".into()], ..policy() };
        assert!(named.judge(Some("Board.Local:8545"), None, false).is_ok());
    }

    #[test]
    fn origins_pass_when_same_listed_or_absent() {
        let p = AccessPolicy {
            http_origins: vec!["http://localhost:3000".into()],
            ws_origins: vec!["http://app.local".into()],
            ..policy()
        };
        let host = Some("127.0.0.1:8545");
        assert!(p.judge(host, None, true).is_ok(), "no Origin: not a browser");
        let own = p.judge(host, Some("http://127.0.0.1:8545"), true).unwrap();
        assert_eq!(own.signing_refused, None, "the node's own page may sign");
        assert!(p.judge(host, Some("http://localhost:3000"), false).is_ok());
        assert!(p.judge(host, Some("http://localhost:3000"), true).is_err(), "not a ws origin");
        assert!(p.judge(host, Some("http://app.local/"), true).is_ok());
        for foreign in ["https://evil.example", "null", "http://127.0.0.1:9999"] {
            assert_eq!(
                p.judge(host, Some(foreign), true),
                Err(Refusal::Origin(foreign.into())),
                "{foreign}"
            );
        }
    }

    #[test]
    fn a_wildcard_origin_may_read_but_not_sign() {
        let p = AccessPolicy { ws_origins: vec!["*".into()], ..policy() };
        let caller = p.judge(Some("localhost:8545"), Some("https://evil.example"), true).unwrap();
        assert!(caller.signing_refused.unwrap().contains("evil.example"));
        let named = AccessPolicy { ws_origins: vec!["https://app.example".into()], ..policy() };
        let caller = named.judge(Some("localhost:8545"), Some("https://app.example"), true);
        assert_eq!(caller.unwrap().signing_refused, None);
    }

    #[test]
    fn exposed_servers_never_sign() {
        let p = AccessPolicy { unlocked: false, ..policy() };
        let caller = p.judge(Some("192.168.1.5:8545"), None, false).unwrap();
        assert!(caller.signing_refused.unwrap().contains("--allow-insecure-unlock"));
    }
}
