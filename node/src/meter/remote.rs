//! An external Ethereum JSON-RPC endpoint as the meter's ledger (`--meter-target http://…`), so a
//! community can report to an existing chain with the same meter code. A small blocking
//! HTTP/1.1 client (one connection per call, `http://` only: put a TLS proxy in front of an
//! `https://` endpoint) speaking only standard `eth_` methods.

use super::ledger::{Ledger, LedgerError, Refused, TxStatus};
use crate::primitives::{Address, Bytes, B256};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(10);
/// Largest answer read from the endpoint (a receipt or a block header is a few KB).
const MAX_ANSWER: u64 = 4 * 1024 * 1024;

/// A JSON-RPC endpoint.
#[derive(Debug, Clone)]
pub struct RemoteLedger {
    host: String,
    path: String,
}

impl RemoteLedger {
    /// An endpoint from its URL (`http://host:port/path`).
    pub fn new(url: &str) -> Result<Self, LedgerError> {
        let rest = url.strip_prefix("http://").ok_or_else(|| LedgerError::Transport {
            endpoint: url.into(),
            reason: "only http:// endpoints (use a local TLS proxy for https)".into(),
        })?;
        let (host, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let host = if host.contains(':') { host.to_string() } else { format!("{host}:80") };
        Ok(Self { host, path: path.to_string() })
    }

    /// One call; a JSON-RPC error comes back as [`LedgerError::Rpc`].
    pub fn request(&self, method: &str, params: Value) -> Result<Value, LedgerError> {
        let body =
            json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
        let transport =
            |reason: String| LedgerError::Transport { endpoint: self.host.clone(), reason };
        let io = |e: std::io::Error| transport(e.to_string());
        let mut stream = TcpStream::connect(&self.host).map_err(io)?;
        stream.set_read_timeout(Some(TIMEOUT)).map_err(io)?;
        stream.set_write_timeout(Some(TIMEOUT)).map_err(io)?;
        let request = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.path,
            self.host,
            body.len()
        );
        stream.write_all(request.as_bytes()).map_err(io)?;
        let mut raw = Vec::new();
        (&mut stream).take(MAX_ANSWER + 1).read_to_end(&mut raw).map_err(io)?;
        if raw.len() as u64 > MAX_ANSWER {
            return Err(transport(format!("answer larger than {MAX_ANSWER} bytes")));
        }
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| transport("malformed HTTP answer".into()))?;
        let head = String::from_utf8_lossy(&raw[..split]).to_lowercase();
        let mut payload = raw[split + 4..].to_vec();
        if head.contains("transfer-encoding: chunked") {
            payload = dechunk(&payload).map_err(|e| transport(e.into()))?;
        }
        let answer: Value =
            serde_json::from_slice(&payload).map_err(|e| transport(e.to_string()))?;
        if let Some(err) = answer.get("error") {
            return Err(LedgerError::Rpc(err["message"].as_str().unwrap_or("error").to_string()));
        }
        Ok(answer["result"].clone())
    }
}

fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, &'static str> {
    let mut out = Vec::new();
    loop {
        let line = body.windows(2).position(|w| w == b"\r\n").ok_or("bad chunk")?;
        let size = usize::from_str_radix(String::from_utf8_lossy(&body[..line]).trim(), 16)
            .map_err(|_| "bad chunk size")?;
        if size == 0 {
            return Ok(out);
        }
        let start = line + 2;
        out.extend_from_slice(body.get(start..start + size).ok_or("short chunk")?);
        body = body.get(start + size + 2..).unwrap_or_default();
    }
}

fn quantity(v: &Value) -> Result<u64, LedgerError> {
    let bad = || LedgerError::BadAnswer(format!("expected a quantity, got {v}"));
    let s = v.as_str().ok_or_else(bad)?;
    u64::from_str_radix(s.trim_start_matches("0x"), 16).map_err(|_| bad())
}

impl Ledger for RemoteLedger {
    fn chain_id(&self) -> Result<u64, LedgerError> {
        quantity(&self.request("eth_chainId", json!([]))?)
    }

    fn pending_nonce(&self, who: &Address) -> Result<u64, LedgerError> {
        quantity(&self.request("eth_getTransactionCount", json!([who, "pending"]))?)
    }

    fn base_fee(&self) -> Result<Option<u128>, LedgerError> {
        let head = self.request("eth_getBlockByNumber", json!(["latest", false]))?;
        match head.get("baseFeePerGas") {
            Some(v) if !v.is_null() => Ok(Some(u128::from(quantity(v)?))),
            _ => Ok(None),
        }
    }

    fn send(&self, raw: &[u8]) -> Result<(), Refused> {
        match self.request("eth_sendRawTransaction", json!([Bytes::copy_from_slice(raw)])) {
            Ok(_) => Ok(()),
            Err(LedgerError::Rpc(m))
                if m.contains("already known") || m.contains("known transaction") =>
            {
                Err(Refused::Known)
            }
            Err(LedgerError::Rpc(m)) if m.contains("nonce too low") => Err(Refused::NonceTooLow),
            Err(e) => Err(Refused::Other(e.to_string())),
        }
    }

    fn head_time(&self) -> Result<u64, LedgerError> {
        let head = self.request("eth_getBlockByNumber", json!(["latest", false]))?;
        quantity(&head["timestamp"])
    }

    fn status(&self, hash: &B256) -> Result<TxStatus, LedgerError> {
        let receipt = self.request("eth_getTransactionReceipt", json!([hash]))?;
        if receipt.is_null() {
            let tx = self.request("eth_getTransactionByHash", json!([hash]))?;
            return Ok(if tx.is_null() { TxStatus::Unknown } else { TxStatus::Pending });
        }
        let block = quantity(&receipt["blockNumber"])?;
        let head = quantity(&self.request("eth_blockNumber", json!([]))?)?;
        let success = receipt["status"] == json!("0x1");
        Ok(TxStatus::Included { block, success, depth: head.saturating_sub(block) })
    }

    fn call(&self, from: Address, to: Address, input: Bytes) -> Result<(bool, Bytes), LedgerError> {
        match self.request("eth_call", json!([{"from": from, "to": to, "data": input}, "latest"])) {
            Ok(v) => {
                let hex = v.as_str().unwrap_or("0x").trim_start_matches("0x");
                let bytes = hex::decode(hex).map_err(|e| LedgerError::BadAnswer(e.to_string()))?;
                Ok((true, Bytes::from(bytes)))
            }
            Err(LedgerError::Rpc(m)) => Ok((false, Bytes::from(m.into_bytes()))),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_answer_is_cut_at_the_limit() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\n\r\n");
            let chunk = vec![b' '; 64 * 1024];
            // Far more than the limit; the client stops reading, so writes start failing.
            for _ in 0..(2 * MAX_ANSWER as usize / chunk.len()) {
                if stream.write_all(&chunk).is_err() {
                    break;
                }
            }
        });
        let ledger = RemoteLedger::new(&format!("http://{addr}")).unwrap();
        let err = ledger.request("eth_chainId", json!([])).unwrap_err();
        assert!(matches!(err, LedgerError::Transport { .. }), "{err}");
        assert!(err.to_string().contains("answer larger than"), "{err}");
        drop(ledger);
        server.join().unwrap();
    }

    #[test]
    fn urls_and_chunked_bodies() {
        let r = RemoteLedger::new("http://10.0.0.2:8545").unwrap();
        assert_eq!((r.host.as_str(), r.path.as_str()), ("10.0.0.2:8545", "/"));
        let r = RemoteLedger::new("http://rpc.example/v1/key").unwrap();
        assert_eq!((r.host.as_str(), r.path.as_str()), ("rpc.example:80", "/v1/key"));
        assert!(RemoteLedger::new("https://rpc.example")
            .unwrap_err()
            .to_string()
            .contains("only http://"));
        assert_eq!(dechunk(b"4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n").unwrap(), b"{\"a\":1}");
        assert!(dechunk(b"zz\r\n").is_err());
    }
}
