//! The town's households without a board of their own: each signs its readings (and its escrow
//! deposit) with its own key and sends them to its board over JSON-RPC, as a meter-only board does
//! with `--meter-target` — to the next board when its own is down — and each interval sends
//! again what is not mined yet. Then the check of a run: every interval settled exactly once,
//! nobody skipped, every reading sent on chain.

use crate::support::*;
use crate::town_bed::{household_key, CHAIN_ID};
use alloy_primitives::{Address, U256};
use alloy_sol_types::{SolCall, SolEvent};
use daisee_contracts::Daisee;
use daisee_node::community::DAISEE_ADDRESS;
use daisee_node::primitives::{keccak256, PrivateKey, SignedTransaction};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// What the town is going through (RPC bytes are counted in the steady phase only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Steady,
    Killed,
    Split,
}

/// The simulated households: `boards..n` (households `0..boards` are the boards' own meters).
pub struct Households {
    keys: Vec<PrivateKey>,
    boards: usize,
    interval_s: u64,
    /// Each board's JSON-RPC address.
    pub rpcs: Vec<String>,
    nonces: Vec<u64>,
    unmined: Vec<Vec<SignedTransaction>>,
    sent: BTreeSet<(Address, u64)>,
    ends: BTreeSet<u64>,
    /// Bytes of this simulator's JSON-RPC traffic with each board in the steady phase.
    pub rpc_bytes_steady: Vec<u64>,
    phase: Phase,
}

fn call_data<C: SolCall>(call: C) -> String {
    format!("0x{}", hex::encode(call.abi_encode()))
}

/// Whether `end` is settled, as board `node` sees it.
pub fn is_settled(node: &NodeProcess, end: u64) -> bool {
    let data = call_data(Daisee::isSettledCall { intervalEnd: end });
    node.call("eth_call", json!([{"to": DAISEE_ADDRESS, "data": data}, "latest"]))
        .is_ok_and(|v| v.as_str().is_some_and(|s| s.ends_with('1')))
}

impl Households {
    pub fn new(n: usize, boards: usize, interval_s: u64, rpcs: Vec<String>) -> Self {
        Self {
            keys: (0..n).map(household_key).collect(),
            boards,
            interval_s,
            rpcs,
            nonces: vec![0; n],
            unmined: vec![Vec::new(); n],
            sent: BTreeSet::new(),
            ends: BTreeSet::new(),
            rpc_bytes_steady: vec![0; boards],
            phase: Phase::Steady,
        }
    }

    fn post(&mut self, board: usize, method: &str, params: Value) -> Result<Value, RpcFailure> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let body = body.to_string();
        let (_, payload) = http_post(&self.rpcs[board], body.as_bytes())
            .map_err(|e| RpcFailure::Transport(e.to_string()))?;
        if self.phase == Phase::Steady {
            // The request and answer with their HTTP headers (about 150 bytes each way).
            self.rpc_bytes_steady[board] += (body.len() + payload.len() + 300) as u64;
        }
        let value: Value = serde_json::from_str(&payload)
            .map_err(|e| RpcFailure::Transport(format!("bad answer {payload:?}: {e}")))?;
        if let Some(err) = value.get("error") {
            return Err(RpcFailure::Error {
                code: err["code"].as_i64().unwrap_or_default(),
                message: err["message"].as_str().unwrap_or_default().to_string(),
            });
        }
        Ok(value["result"].clone())
    }

    /// Sends `tx` for household `h` to its board, or the next one up.
    fn send(&mut self, h: usize, tx: &SignedTransaction, up: &[bool]) {
        for k in 0..self.boards {
            let b = (h + k) % self.boards;
            if !up[b] {
                continue;
            }
            match self.post(b, "eth_sendRawTransaction", json!([raw(tx)])) {
                Err(RpcFailure::Transport(_)) => continue,
                _ => return,
            }
        }
    }

    fn sign(&mut self, h: usize, value: U256, input: Vec<u8>, gas: u64) -> SignedTransaction {
        let nonce = self.nonces[h];
        self.nonces[h] += 1;
        let tx = signed(&self.keys[h], CHAIN_ID, nonce, DAISEE_ADDRESS, value, input.into(), gas);
        self.unmined[h].push(tx.clone());
        tx
    }

    /// The buyers (even households) put 0.05 ether in escrow.
    pub fn deposit(&mut self, up: &[bool]) {
        let escrow = U256::from(50_000_000_000_000_000u64);
        for h in (self.boards..self.keys.len()).filter(|h| h % 2 == 0) {
            let tx = self.sign(h, escrow, Daisee::depositCall {}.abi_encode(), 100_000);
            self.send(h, &tx, up);
        }
    }

    /// The chain's clock, as board 0 (never killed, on the larger side) sees it.
    fn chain_time(&mut self) -> u64 {
        let head = self.post(0, "eth_getBlockByNumber", json!(["latest", false])).unwrap();
        quantity(&head["timestamp"])
    }

    /// Reports every interval that ends during `span` of wall time.
    pub fn report_for(&mut self, span: Duration, up: &[bool], phase: Phase) {
        self.phase = phase;
        let until = Instant::now() + span;
        while Instant::now() < until {
            let end = self.chain_time() / self.interval_s * self.interval_s;
            if self.ends.last().is_none_or(|last| end > *last) {
                self.report(end, up);
            } else {
                std::thread::sleep(Duration::from_millis(500));
            }
        }
        self.phase = Phase::Steady;
    }

    /// One interval: what is still unmined is sent again, then every household's reading.
    fn report(&mut self, end: u64, up: &[bool]) {
        for h in self.boards..self.keys.len() {
            if self.unmined[h].is_empty() {
                continue;
            }
            let who = self.keys[h].address();
            let b = (0..self.boards).map(|k| (h + k) % self.boards).find(|b| up[*b]).unwrap();
            let Ok(count) = self.post(b, "eth_getTransactionCount", json!([who, "latest"])) else {
                continue;
            };
            let mined = quantity(&count);
            self.unmined[h].retain(|tx| tx.tx.nonce >= mined);
            for tx in self.unmined[h].clone() {
                self.send(h, &tx, up);
            }
        }
        let most = 36_000 * self.interval_s / 3600 / 2;
        for h in self.boards..self.keys.len() {
            let draw = keccak256(format!("{h} {end}"));
            let (a, b) = (u64::from(draw[0]) * most / 255, u64::from(draw[1]) * most / 255 / 3);
            let (produced, consumed) = if h % 2 == 1 { (a, b) } else { (b, a) };
            let report = Daisee::reportReadingCall {
                intervalEnd: end,
                producedWh: U256::from(produced),
                consumedWh: U256::from(consumed),
            };
            let tx = self.sign(h, U256::ZERO, report.abi_encode(), 300_000);
            self.send(h, &tx, up);
            self.sent.insert((self.keys[h].address(), end));
        }
        self.ends.insert(end);
    }

    /// The last interval reported.
    pub fn last_end(&self) -> u64 {
        self.ends.last().copied().unwrap_or_default()
    }

    /// Every interval reported: settled once, nobody skipped; every reading sent on chain.
    pub fn check(&mut self, node: &NodeProcess) -> Value {
        let head = quantity(&node.ok("eth_blockNumber", json!([])));
        let (mut readings, mut cleared) = (BTreeSet::new(), BTreeMap::<u64, Vec<Value>>::new());
        let mut late = 0u64;
        let mut from = 0u64;
        // The node answers at most 10,000 logs: a town reports 1,000 a minute, so the range
        // halves when a question asks too much.
        let mut span = 100u64;
        let topics = json!([[
            Daisee::Reading::SIGNATURE_HASH,
            Daisee::Cleared::SIGNATURE_HASH,
            Daisee::OutsideMarket::SIGNATURE_HASH
        ]]);
        while from <= head {
            let to = (from + span - 1).min(head);
            let filter = json!([{"address": DAISEE_ADDRESS, "fromBlock": format!("{from:#x}"),
                "toBlock": format!("{to:#x}"), "topics": topics}]);
            let logs = match node.call("eth_getLogs", filter) {
                Err(RpcFailure::Error { code: -32005, .. }) if span > 1 => {
                    span /= 2;
                    continue;
                }
                other => other.expect("eth_getLogs"),
            };
            for log in logs.as_array().unwrap() {
                let log = crate::market_model::to_log(log);
                if let Ok(r) = Daisee::Reading::decode_log(&log) {
                    readings.insert((r.meter, r.intervalEnd));
                } else if let Ok(c) = Daisee::Cleared::decode_log(&log) {
                    cleared.entry(c.intervalEnd).or_default().push(json!({
                        "volumeWh": c.volumeWh.to::<u64>(), "sellers": c.sellers.to::<u64>(),
                        "buyers": c.buyers.to::<u64>(), "skipped": c.skipped.to::<u64>(),
                    }));
                } else if Daisee::OutsideMarket::decode_log(&log).is_ok() {
                    late += 1;
                }
            }
            from = to + 1;
        }
        let unsettled: Vec<u64> =
            self.ends.iter().filter(|e| !cleared.contains_key(e)).copied().collect();
        let twice: Vec<u64> =
            cleared.iter().filter(|(_, c)| c.len() > 1).map(|(e, _)| *e).collect();
        let skipped: u64 = cleared.values().flatten().map(|c| c["skipped"].as_u64().unwrap()).sum();
        let lost = self.sent.difference(&readings).count();
        let per_interval: Vec<Value> = self
            .ends
            .iter()
            .map(|e| json!({"intervalEnd": e, "cleared": cleared.get(e)}))
            .collect();
        json!({
            "intervalsDue": self.ends.len(),
            "settled": self.ends.len() - unsettled.len(),
            "unsettled": unsettled,
            "settledTwice": twice,
            "skippedMeters": skipped,
            "readingsSent": self.sent.len(),
            "readingsLost": lost,
            "readingsOutsideMarket": late,
            "intervals": per_interval,
        })
    }
}
