//! The town's households without a board of their own: each signs its readings (and its escrow
//! deposit) with its own key and sends them to its board over JSON-RPC, as a meter-only board does
//! with `--meter-target` — to the next board when its own is down — and each interval sends
//! again what is not mined yet. The households of each board send at the same time as the other
//! boards' (a thread per board), as a town's meters do: one client sending 1,000 readings one
//! after the other outlasts a compressed interval. The check of a run is in `town_check`.

use crate::support::*;
use crate::town_bed::{household_key, CHAIN_ID};
use alloy_primitives::{Address, U256};
use alloy_sol_types::SolCall;
use daisee_contracts::Daisee;
use daisee_node::community::DAISEE_ADDRESS;
use daisee_node::primitives::{keccak256, PrivateKey, SignedTransaction, B256};
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

/// One simulated household: its key, its next nonce, what it sent that is not mined yet, and
/// the transaction of each interval's reading (to say what became of a reading not on chain).
struct Home {
    key: PrivateKey,
    nonce: u64,
    unmined: Vec<SignedTransaction>,
    readings: BTreeMap<u64, B256>,
}

impl Home {
    fn sign(&mut self, value: U256, input: Vec<u8>, gas: u64) -> SignedTransaction {
        let tx = signed(&self.key, CHAIN_ID, self.nonce, DAISEE_ADDRESS, value, input.into(), gas);
        self.nonce += 1;
        self.unmined.push(tx.clone());
        tx
    }
}

/// One sending thread's view of the boards: where they listen, which are up, the bytes it sent.
struct Link<'a> {
    rpcs: &'a [String],
    up: &'a [bool],
    count_bytes: bool,
    bytes: Vec<u64>,
}

impl Link<'_> {
    /// Household `h`'s board, or the next one up.
    fn board_of(&self, h: usize) -> usize {
        let n = self.rpcs.len();
        (0..n).map(|k| (h + k) % n).find(|b| self.up[*b]).expect("a board up")
    }

    fn post(&mut self, board: usize, method: &str, params: Value) -> Result<Value, RpcFailure> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let body = body.to_string();
        let (_, payload) = http_post(&self.rpcs[board], body.as_bytes())
            .map_err(|e| RpcFailure::Transport(e.to_string()))?;
        if self.count_bytes {
            // The request and answer with their HTTP headers (about 150 bytes each way).
            self.bytes[board] += (body.len() + payload.len() + 300) as u64;
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

    /// Sends `tx` for household `h` to its board, or the next one up that answers. An answer
    /// that is an error (already known, nonce too low…) is an answer: what is not mined is sent
    /// again next round.
    fn send(&mut self, h: usize, tx: &SignedTransaction) {
        let n = self.rpcs.len();
        for k in 0..n {
            let b = (h + k) % n;
            if !self.up[b] {
                continue;
            }
            match self.post(b, "eth_sendRawTransaction", json!([raw(tx)])) {
                Err(RpcFailure::Transport(_)) => continue,
                _ => return,
            }
        }
    }

    /// Forgets what of `home`'s is mined (by its nonce at its board) and sends the rest again;
    /// returns how many are still unmined.
    fn resend_unmined(&mut self, h: usize, home: &mut Home) -> usize {
        if home.unmined.is_empty() {
            return 0;
        }
        let b = self.board_of(h);
        let who = home.key.address();
        if let Ok(count) = self.post(b, "eth_getTransactionCount", json!([who, "latest"])) {
            let mined = quantity(&count);
            home.unmined.retain(|tx| tx.tx.nonce >= mined);
        }
        for tx in home.unmined.clone() {
            self.send(h, &tx);
        }
        home.unmined.len()
    }
}

/// The simulated households: `boards..n` (households `0..boards` are the boards' own meters).
pub struct Households {
    homes: Vec<Home>,
    boards: usize,
    interval_s: u64,
    /// Each board's JSON-RPC address.
    pub rpcs: Vec<String>,
    /// The readings sent: (meter, interval end).
    pub sent: BTreeSet<(Address, u64)>,
    /// The intervals reported.
    pub ends: BTreeSet<u64>,
    /// Intervals that ended while the households were still sending an earlier one's readings.
    pub ends_missed: u64,
    /// Wall seconds each interval's round of sends took.
    pub round_seconds: Vec<f64>,
    /// Bytes of this simulator's JSON-RPC traffic with each board in the steady phase.
    pub rpc_bytes_steady: Vec<u64>,
    phase: Phase,
}

impl Households {
    pub fn new(n: usize, boards: usize, interval_s: u64, rpcs: Vec<String>) -> Self {
        let homes = (0..n)
            .map(|h| Home {
                key: household_key(h),
                nonce: 0,
                unmined: Vec::new(),
                readings: BTreeMap::new(),
            })
            .collect();
        Self {
            homes,
            boards,
            interval_s,
            rpcs,
            sent: BTreeSet::new(),
            ends: BTreeSet::new(),
            ends_missed: 0,
            round_seconds: Vec::new(),
            rpc_bytes_steady: vec![0; boards],
            phase: Phase::Steady,
        }
    }

    /// Runs `work` for every simulated household, each board's households in a thread of their
    /// own; returns the sum of what `work` returned.
    fn round(
        &mut self,
        up: &[bool],
        work: impl Fn(&mut Link, usize, &mut Home) -> usize + Sync,
    ) -> usize {
        let first = Link { rpcs: &self.rpcs, up, count_bytes: false, bytes: Vec::new() };
        let mut groups: Vec<Vec<(usize, &mut Home)>> =
            (0..self.boards).map(|_| Vec::new()).collect();
        for (h, home) in self.homes.iter_mut().enumerate().skip(self.boards) {
            groups[first.board_of(h)].push((h, home));
        }
        let (rpcs, count_bytes, boards) = (&self.rpcs, self.phase == Phase::Steady, self.boards);
        let work = &work;
        let results: Vec<(usize, Vec<u64>)> = std::thread::scope(|s| {
            let threads: Vec<_> = groups
                .into_iter()
                .filter(|g| !g.is_empty())
                .map(|group| {
                    s.spawn(move || {
                        let mut link = Link { rpcs, up, count_bytes, bytes: vec![0; boards] };
                        let done =
                            group.into_iter().map(|(h, home)| work(&mut link, h, home)).sum();
                        (done, link.bytes)
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().expect("a sending thread")).collect()
        });
        let mut total = 0;
        for (done, bytes) in results {
            total += done;
            for (sum, b) in self.rpc_bytes_steady.iter_mut().zip(bytes) {
                *sum += b;
            }
        }
        total
    }

    /// The transaction that carried `meter`'s reading of the interval ending at `end`.
    pub fn reading_tx(&self, meter: &Address, end: u64) -> Option<B256> {
        let home = self.homes.iter().find(|home| home.key.address() == *meter)?;
        home.readings.get(&end).copied()
    }

    /// The buyers (even households) put 0.05 ether in escrow.
    pub fn deposit(&mut self, up: &[bool]) {
        let escrow = U256::from(50_000_000_000_000_000u64);
        self.round(up, |link, h, home| {
            if h % 2 == 0 {
                let tx = home.sign(escrow, Daisee::depositCall {}.abi_encode(), 100_000);
                link.send(h, &tx);
            }
            0
        });
    }

    /// The chain's clock, as board 0 (never killed, on the larger side) sees it.
    fn chain_time(&self) -> u64 {
        let head = rpc_call(&self.rpcs[0], "eth_getBlockByNumber", json!(["latest", false]));
        quantity(&head.expect("board 0's head")["timestamp"])
    }

    /// Reports every interval that ends during `span` of wall time.
    pub fn report_for(&mut self, span: Duration, up: &[bool], phase: Phase) {
        self.phase = phase;
        let until = Instant::now() + span;
        while Instant::now() < until {
            let now = self.chain_time();
            let end = now / self.interval_s * self.interval_s;
            match self.ends.last() {
                Some(last) if end <= *last => std::thread::sleep(Duration::from_millis(500)),
                // A household reports an interval as it ends: the first one the bed reports is
                // one that has just ended, never one whose grace period is nearly over.
                None if now - end > self.interval_s / 4 => {
                    std::thread::sleep(Duration::from_millis(500))
                }
                last => {
                    if let Some(last) = last {
                        self.ends_missed += (end - last) / self.interval_s - 1;
                    }
                    let started = Instant::now();
                    self.report(end, up);
                    self.round_seconds.push(started.elapsed().as_secs_f64());
                }
            }
        }
        self.phase = Phase::Steady;
    }

    /// One interval: each household sends again what is still unmined, then its reading.
    fn report(&mut self, end: u64, up: &[bool]) {
        let most = 36_000 * self.interval_s / 3600 / 2;
        self.round(up, |link, h, home| {
            link.resend_unmined(h, home);
            let draw = keccak256(format!("{h} {end}"));
            let (a, b) = (u64::from(draw[0]) * most / 255, u64::from(draw[1]) * most / 255 / 3);
            let (produced, consumed) = if h % 2 == 1 { (a, b) } else { (b, a) };
            let report = Daisee::reportReadingCall {
                intervalEnd: end,
                producedWh: U256::from(produced),
                consumedWh: U256::from(consumed),
            };
            let tx = home.sign(U256::ZERO, report.abi_encode(), 300_000);
            home.readings.insert(end, tx.hash());
            link.send(h, &tx);
            0
        });
        for home in &self.homes[self.boards..] {
            self.sent.insert((home.key.address(), end));
        }
        self.ends.insert(end);
    }

    /// After the last interval: sends again what is unmined, every few seconds, until everything
    /// is mined or `timeout` passes; returns the seconds it took and how many were left.
    pub fn drain(&mut self, timeout: Duration) -> (f64, usize) {
        let start = Instant::now();
        let up = vec![true; self.boards];
        loop {
            let left = self.round(&up, |link, h, home| link.resend_unmined(h, home));
            if left == 0 || start.elapsed() > timeout {
                return (start.elapsed().as_secs_f64(), left);
            }
            std::thread::sleep(Duration::from_secs(2));
        }
    }

    /// How many households board `rpc` does not yet show with all their transactions mined (its
    /// nonce for them below what they sent): a board may still be adopting the last blocks.
    pub fn unmined_at(&self, rpc: &str) -> usize {
        let behind = |home: &&Home| {
            let count =
                rpc_call(rpc, "eth_getTransactionCount", json!([home.key.address(), "latest"]));
            count.map_or(true, |c| quantity(&c) < home.nonce)
        };
        self.homes.iter().skip(self.boards).filter(behind).count()
    }

    /// The last interval reported.
    pub fn last_end(&self) -> u64 {
        self.ends.last().copied().unwrap_or_default()
    }
}
