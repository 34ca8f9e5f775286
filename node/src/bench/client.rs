//! A plain JSON-RPC load client for any Ethereum node (this one, another board, anvil, Hardhat):
//! pre-signed raw transactions sent lane by lane (a lane is one account's transactions in nonce
//! order, on its own keep-alive connection), one per request as wallets and scripts send them or
//! in JSON-RPC batches, then every receipt polled in batches of 100 until each is in a block
//! (submit → last receipt). `daisee load` runs it and `benches/compare` drives it: a compiled
//! client whose own CPU per transaction is small, so that on a 2-core machine the rate measured
//! is the server's rather than the client's.

use super::{err, BenchError};
use serde::Serialize;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Largest answer read (a batch of 100 receipts with logs is about 100 KB).
const MAX_ANSWER: u64 = 64 << 20;
/// Largest raw transaction (geth's limit, 128 KiB).
const MAX_TX_BYTES: usize = 128 * 1024;
/// Most lanes (each a thread and a connection).
pub const MAX_LANES: usize = 256;
/// Largest batch (the cap daisee and most servers put on a JSON-RPC batch).
pub const MAX_BATCH: usize = 1000;
/// Largest lanes file read.
pub const MAX_LANES_FILE: u64 = 1 << 30;
/// Receipts asked for per request while waiting.
const RECEIPT_BATCH: usize = 100;
/// Pause before sending again what a full pool refused, and between receipt rounds.
const PAUSE: Duration = Duration::from_millis(10);

/// CPU seconds (user + system) so far: the calling thread's, or with `process` the whole
/// process's (nanosecond clocks: a lane's thread may use less than the 10 ms of a `/proc` tick).
pub(super) fn cpu_seconds(process: bool) -> f64 {
    use rustix::time::{clock_gettime, ClockId};
    let t = clock_gettime(if process { ClockId::ProcessCPUTime } else { ClockId::ThreadCPUTime });
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

/// A JSON-RPC endpoint over plain HTTP/1.1, its connections kept alive and pooled (one per
/// thread that uses it at once), every answer bounded before it is read.
pub struct Rpc {
    agent: ureq::Agent,
    url: String,
}

impl Rpc {
    /// An endpoint at `url` (`http://host:port[/path]`); a request unanswered for `timeout` fails.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, BenchError> {
        let host = url.strip_prefix("http://").unwrap_or_default();
        if host.is_empty() || host.starts_with('/') || host.contains(['@', ' ', '#', '?']) {
            return Err(err(format!(
                "{url:?}: give the node's JSON-RPC as http://host:port (plain HTTP, no credentials)"
            )));
        }
        // Timeouts per phase, none for the name: with a global one ureq resolves the host in a
        // new thread on every request (pooled connection or not), which cost the node-side
        // measurement ~40 µs per transaction; an IP address needs no lookup at all.
        let config = ureq::Agent::config_builder()
            .timeout_connect(Some(timeout))
            .timeout_send_request(Some(timeout))
            .timeout_send_body(Some(timeout))
            .timeout_recv_response(Some(timeout))
            .timeout_recv_body(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .max_idle_connections(MAX_LANES + 1)
            .max_idle_connections_per_host(MAX_LANES + 1)
            .max_response_header_size(64 * 1024)
            .build();
        Ok(Self { agent: ureq::Agent::new_with_config(config), url: url.to_string() })
    }

    /// Posts a JSON-RPC request (or batch) and returns the JSON answer.
    pub fn post(&self, body: &Value) -> Result<Value, BenchError> {
        self.post_as(body)
    }

    /// Posts a JSON-RPC request (or batch) and reads the answer as a `T` (only the fields the
    /// caller needs: the receipts' status, not the rest of each receipt).
    pub fn post_as<T: serde::de::DeserializeOwned>(&self, body: &Value) -> Result<T, BenchError> {
        let failed = |e: ureq::Error| err(format!("{}: {e}", self.url));
        let mut answer = self
            .agent
            .post(&self.url)
            .header("content-type", "application/json")
            .send(body.to_string())
            .map_err(failed)?;
        let status = answer.status().as_u16();
        let bytes =
            answer.body_mut().with_config().limit(MAX_ANSWER).read_to_vec().map_err(failed)?;
        if status != 200 {
            return Err(err(format!("{}: HTTP {status}: {}", self.url, shown(&bytes))));
        }
        serde_json::from_slice(&bytes).map_err(|e| {
            err(format!("{}: not the answer expected ({e}): {}", self.url, shown(&bytes)))
        })
    }

    /// Calls `method`; its `result`, or its error as the error.
    pub fn call(&self, method: &str, params: Value) -> Result<Value, BenchError> {
        let mut answer =
            self.post(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))?;
        match answer.get("error") {
            Some(e) => Err(err(format!("{method}: {}", e["message"].as_str().unwrap_or("error")))),
            None => Ok(answer["result"].take()),
        }
    }
}

/// The start of an answer, for an error message.
fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
    text.trim().to_string()
}

/// What the client reads of a receipt's answer: its id and, once mined, its status.
#[derive(serde::Deserialize)]
struct ReceiptAnswer {
    id: Option<u64>,
    result: Option<ReceiptStatus>,
}

#[derive(serde::Deserialize)]
struct ReceiptStatus {
    status: Option<String>,
}

/// Raw transactions (`0x…` hex) to send: each lane one account's, in nonce order.
#[derive(Debug, Clone, Default)]
pub struct Lanes(Vec<Vec<String>>);

impl Lanes {
    /// Lanes of transactions already encoded as `0x…` hex.
    pub fn new(lanes: Vec<Vec<String>>) -> Result<Self, BenchError> {
        if lanes.is_empty() || lanes.len() > MAX_LANES {
            return Err(err(format!("give between 1 and {MAX_LANES} lanes, not {}", lanes.len())));
        }
        for (l, lane) in lanes.iter().enumerate() {
            for (i, raw) in lane.iter().enumerate() {
                let hex = raw.strip_prefix("0x").unwrap_or("");
                let ok = !hex.is_empty()
                    && hex.len() % 2 == 0
                    && hex.len() / 2 <= MAX_TX_BYTES
                    && hex.bytes().all(|b| b.is_ascii_hexdigit());
                if !ok {
                    let shown: String = raw.chars().take(20).collect();
                    return Err(err(format!(
                        "lane {l}, transaction {i} ({shown:?}…): not a raw transaction (0x and \
                         at most {MAX_TX_BYTES} bytes in hex)"
                    )));
                }
            }
        }
        Ok(Self(lanes))
    }

    /// Parses a lanes file: JSON, `[["0x…", …], …]` or `{"lanes": [["0x…", …], …]}`.
    pub fn parse(text: &str) -> Result<Self, BenchError> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum File {
            Bare(Vec<Vec<String>>),
            Named { lanes: Vec<Vec<String>> },
        }
        let file: File = serde_json::from_str(text).map_err(|e| {
            err(format!(r#"not a lanes file ({e}): give JSON, [["0x…", …], …] or {{"lanes": …}}"#))
        })?;
        Self::new(match file {
            File::Bare(lanes) | File::Named { lanes } => lanes,
        })
    }

    /// Reads a lanes file, refusing one larger than [`MAX_LANES_FILE`].
    pub fn read(path: &std::path::Path) -> Result<Self, BenchError> {
        let size = std::fs::metadata(path).map_err(|e| err(format!("{}: {e}", path.display())))?;
        if size.len() > MAX_LANES_FILE {
            return Err(err(format!("{}: larger than {MAX_LANES_FILE} bytes", path.display())));
        }
        let text =
            std::fs::read_to_string(path).map_err(|e| err(format!("{}: {e}", path.display())))?;
        Self::parse(&text)
    }

    /// Transactions in all lanes.
    pub fn txs(&self) -> usize {
        self.0.iter().map(Vec::len).sum()
    }
}

/// What one load gave.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadReport {
    /// Transactions in the lanes.
    pub txs: usize,
    /// Transactions per request.
    pub batch: usize,
    /// Lanes (connections) sending at once.
    pub lanes: usize,
    /// Refused for another reason than a full pool (the first reason in `firstRefusal`).
    pub refused: usize,
    /// The first such refusal.
    pub first_refusal: Option<String>,
    /// Sent again after a full pool refused them.
    pub resent: usize,
    /// In a block by the end.
    pub mined: usize,
    /// In a block with status 0.
    pub reverted: usize,
    /// No receipt arrived for the stall time.
    pub stalled: bool,
    /// Seconds to submit every transaction.
    pub submit_s: f64,
    /// Seconds from the first submission to the last receipt.
    pub elapsed_s: f64,
    /// Transactions per second, submit → last receipt (0 if stalled).
    pub tx_per_s: f64,
    /// The client's own CPU per transaction, µs (its threads only).
    pub client_cpu_us_per_tx: f64,
}

/// Whether a refusal means "full, try again later" (daisee, geth, Hardhat, anvil word it so).
fn pool_full(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("pool is full") || m.contains("pool full")
}

/// What one lane's thread sent.
#[derive(Default)]
struct Sent {
    hashes: Vec<String>,
    refused: usize,
    first_refusal: Option<String>,
    resent: usize,
    cpu_s: f64,
}

/// Sends one lane in order, `batch` per request, sending again (after a pause) what a full pool
/// refused, for at most `stall` per group.
fn send_lane(
    rpc: &Rpc,
    lane: &[String],
    batch: usize,
    stall: Duration,
) -> Result<Sent, BenchError> {
    let cpu = cpu_seconds(false);
    let mut sent = Sent { hashes: Vec::with_capacity(lane.len()), ..Sent::default() };
    for group in lane.chunks(batch) {
        let since = Instant::now();
        let mut part: Vec<&String> = group.iter().collect();
        while !part.is_empty() {
            let call = |i: usize, raw: &String| json!({"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [raw]});
            let answers = if batch == 1 {
                vec![rpc.post(&call(0, part[0]))?]
            } else {
                match rpc.post(&Value::Array(
                    part.iter().enumerate().map(|(i, r)| call(i, r)).collect(),
                ))? {
                    Value::Array(all) if all.len() == part.len() => all,
                    other => {
                        let other = shown(other.to_string().as_bytes());
                        return Err(err(format!("a batch of {} was answered {other}", part.len())));
                    }
                }
            };
            let mut again = Vec::new();
            for answer in answers {
                let i = answer["id"].as_u64().unwrap_or(0) as usize;
                let raw =
                    *part.get(i).ok_or_else(|| err(format!("answer to no request: {answer}")))?;
                match (answer.get("error"), answer["result"].as_str()) {
                    (None, Some(hash)) => sent.hashes.push(hash.to_string()),
                    (Some(e), _) => {
                        let message = e["message"].as_str().unwrap_or_default();
                        if pool_full(message) && since.elapsed() < stall {
                            again.push(raw);
                        } else {
                            sent.refused += 1;
                            sent.first_refusal.get_or_insert_with(|| message.to_string());
                        }
                    }
                    (None, None) => return Err(err(format!("an answer with no hash: {answer}"))),
                }
            }
            if !again.is_empty() {
                sent.resent += again.len();
                std::thread::sleep(PAUSE);
            }
            part = again;
        }
    }
    sent.cpu_s = cpu_seconds(false) - cpu;
    Ok(sent)
}

/// Sends every lane at once (a thread and a connection each), then polls every receipt until
/// all are in blocks or none arrives for `stall`.
pub fn load(
    rpc: &Rpc,
    lanes: &Lanes,
    batch: usize,
    stall: Duration,
) -> Result<LoadReport, BenchError> {
    if batch == 0 || batch > MAX_BATCH {
        return Err(err(format!("give a batch between 1 and {MAX_BATCH}, not {batch}")));
    }
    let started = Instant::now();
    let sent: Vec<Sent> = std::thread::scope(|scope| {
        let threads: Vec<_> = lanes
            .0
            .iter()
            .map(|lane| scope.spawn(move || send_lane(rpc, lane, batch, stall)))
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().map_err(|_| err("a lane's thread panicked"))?)
            .collect::<Result<Vec<_>, _>>()
    })?;
    let submit_s = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(false);
    let mut report = LoadReport {
        txs: lanes.txs(),
        batch,
        lanes: lanes.0.len(),
        refused: sent.iter().map(|s| s.refused).sum(),
        first_refusal: sent.iter().find_map(|s| s.first_refusal.clone()),
        resent: sent.iter().map(|s| s.resent).sum(),
        submit_s,
        ..LoadReport::default()
    };
    let mut waiting: Vec<String> = sent.iter().flat_map(|s| s.hashes.iter().cloned()).collect();
    let accepted = waiting.len();
    let mut progress = Instant::now();
    while !waiting.is_empty() {
        let mut still = Vec::new();
        for chunk in waiting.chunks(RECEIPT_BATCH) {
            let calls = chunk.iter().enumerate().map(|(i, h)| json!({"jsonrpc": "2.0", "id": i, "method": "eth_getTransactionReceipt", "params": [h]}));
            let answers: Vec<ReceiptAnswer> = rpc.post_as(&Value::Array(calls.collect()))?;
            let mut found = vec![None; chunk.len()];
            for answer in answers {
                if let Some(slot) = answer.id.and_then(|i| found.get_mut(i as usize)) {
                    *slot = answer.result.map(|r| r.status.as_deref() == Some("0x1"));
                }
            }
            for (hash, receipt) in chunk.iter().zip(found) {
                match receipt {
                    None => still.push(hash.clone()),
                    Some(ok) => report.reverted += usize::from(!ok),
                }
            }
        }
        if still.len() < waiting.len() {
            progress = Instant::now();
        }
        waiting = still;
        if !waiting.is_empty() {
            if progress.elapsed() > stall {
                break;
            }
            std::thread::sleep(PAUSE);
        }
    }
    report.elapsed_s = started.elapsed().as_secs_f64();
    report.mined = accepted - waiting.len();
    report.stalled = !waiting.is_empty();
    report.tx_per_s = if report.stalled { 0.0 } else { report.txs as f64 / report.elapsed_s };
    let client_cpu = sent.iter().map(|s| s.cpu_s).sum::<f64>() + cpu_seconds(false) - cpu;
    report.client_cpu_us_per_tx = client_cpu * 1e6 / report.txs.max(1) as f64;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_files_are_checked_before_anything_is_sent() {
        let ok = Lanes::parse(r#"{"lanes": [["0x02f8"], ["0xab", "0xcd"]]}"#).unwrap();
        assert_eq!(ok.txs(), 3);
        assert_eq!(Lanes::parse(r#"[["0x01"]]"#).unwrap().txs(), 1);
        for (bad, says) in [
            ("", "not a lanes file"),
            ("[]", "between 1 and 256 lanes"),
            (r#"[["02f8"]]"#, "not a raw transaction"),
            (r#"[["0x"]]"#, "not a raw transaction"),
            (r#"[["0x0"]]"#, "not a raw transaction"),
            (r#"[["0xzz"]]"#, "not a raw transaction"),
            (r#"[[1]]"#, "not a lanes file"),
            (r#"{"lanes": "0x01"}"#, "not a lanes file"),
        ] {
            let e = Lanes::parse(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
        let huge = format!(r#"[["0x{}"]]"#, "00".repeat(MAX_TX_BYTES + 1));
        assert!(Lanes::parse(&huge).unwrap_err().to_string().contains("at most"));
        let many = format!("[{}]", vec![r#"["0x01"]"#; MAX_LANES + 1].join(","));
        assert!(Lanes::parse(&many).unwrap_err().to_string().contains("lanes"));
    }

    #[test]
    fn only_plain_http_urls_are_taken() {
        for bad in ["https://a:1", "localhost:8545", "http://", "http:///x", "http://u:p@h:1"] {
            assert!(Rpc::new(bad, Duration::from_secs(1)).is_err(), "{bad}");
        }
        assert!(Rpc::new("http://127.0.0.1:8545", Duration::from_secs(1)).is_ok());
    }

    #[test]
    fn a_full_pool_is_told_apart_from_a_refusal() {
        assert!(pool_full("transaction pool is full"));
        assert!(pool_full("txpool is full"));
        assert!(!pool_full("nonce too low"));
    }
}
