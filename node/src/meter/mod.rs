//! The meter service: a board's sensors → interval readings → a durable outbox in the node's
//! database → one `reportReading(intervalEnd, producedWh, consumedWh)` per interval, signed by
//! the board's meter account → the local txpool (and the network) → included. Nothing is lost
//! or counted twice across restarts: the integration state and the readings are persisted, a
//! signed transaction is recorded before it is sent, and a reading leaves the outbox only once
//! its transaction is confirmed in a canonical block. Beside it, the market agent settles the
//! intervals the meter reported and keeps its escrow topped up (`market`).

mod interval;
mod ledger;
mod market;
mod outbox;
mod remote;
mod sender;
mod spill;

pub use interval::{MeterState, Reading, SensorState};
pub use ledger::{Ledger, LedgerError, LocalLedger, Refused, TxStatus};
pub use market::{MarketAgent, MarketCounters, MarketSpec, LOOK_BACK};
pub use outbox::{Abi, Call, Entry, Outbox};
pub use remote::RemoteLedger;
pub use sender::{Sender, SenderCounters, CONFIRMATIONS, REPORT_GAS, RETRY_MS};

use crate::node::Node;
use crate::primitives::{Address, PrivateKey};
use daisee_radio::{Source, SourceStats};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How often sources are polled.
const POLL_EVERY: Duration = Duration::from_millis(200);

/// What a sensor measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The household's production (solar panels…).
    Production,
    /// The household's consumption.
    Consumption,
    /// The household's grid connection (the utility's meter): what it draws is consumption,
    /// what it returns is production.
    Grid,
}

/// One sensor of a meter.
pub struct SensorSpec {
    /// What it measures.
    pub direction: Direction,
    /// Where its samples come from.
    pub source: Box<dyn Source>,
}

/// One meter: an account reporting the readings of its sensors.
pub struct MeterSpec {
    /// A name for logs (e.g. "producer").
    pub name: String,
    /// The meter account (registered in the contract).
    pub key: PrivateKey,
    /// Interval length, seconds.
    pub interval_s: u64,
    /// The Daisee contract.
    pub contract: Address,
    /// Its sensors.
    pub sensors: Vec<SensorSpec>,
    /// Where its transactions go: `None` for the local chain, or a JSON-RPC URL.
    pub target: Option<String>,
    /// The contract interface.
    pub abi: Abi,
    /// What the board does in the community market (`None`: nothing; `v2` only).
    pub market: Option<MarketSpec>,
}

/// The meters' statuses, written by the meter service and read by RPC (`daisee_meters`): the
/// service owns it and hands out clones (cheap; they share the board).
#[derive(Debug, Clone, Default)]
pub struct StatusBoard(Arc<std::sync::Mutex<std::collections::BTreeMap<Address, MeterStatus>>>);

impl StatusBoard {
    fn set(&self, address: Address, status: MeterStatus) {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(address, status);
    }

    /// Every meter's latest status, by address.
    pub fn all(&self) -> Vec<MeterStatus> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).values().cloned().collect()
    }
}

/// What RPC shows of a meter (`daisee_meters`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeterStatus {
    /// Name.
    pub name: String,
    /// Account.
    pub address: Address,
    /// Interval, seconds.
    pub interval: u64,
    /// Readings waiting in the outbox.
    pub outbox: usize,
    /// Intervals without samples.
    pub gaps: u64,
    /// Energy register readings taken as a new baseline (a meter change, a counter reset, a
    /// misread jump): nothing was counted across them.
    pub rebases: u64,
    /// The sender's counters.
    #[serde(flatten)]
    pub sender: SenderCounters,
    /// Per sensor: direction, last sample (unix ms), counters.
    pub sensors: Vec<SensorStatus>,
    /// The market agent's counters, when it runs.
    pub market: Option<MarketCounters>,
}

/// One sensor's status.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SensorStatus {
    /// What it measures.
    pub direction: Direction,
    /// Where its samples come from, as the config names it (`radio`, `tic`, `modbus`…).
    pub source: &'static str,
    /// Last sample, unix ms.
    pub last_sample_ms: Option<u64>,
    /// How long ago the last sample was taken, ms, on the sensor's clock (the wall clock for a
    /// radio sensor, the simulated one for a simulated household).
    pub last_sample_age_ms: Option<u64>,
    /// Last power, W.
    pub last_power_w: Option<u16>,
    /// Last battery, mV.
    pub battery_mv: Option<u16>,
    /// What the 2016 bridge would have reported for the last interval (a sum of watts, not
    /// energy), beside the Wh this node reported, for side-by-side checks.
    pub last_interval_compat_sum_watts: u64,
    /// Frame counters.
    pub stats: SourceStats,
}

struct Running {
    spec: MeterSpec,
    directions: Vec<Direction>,
    state: MeterState,
    outbox: Outbox,
    sender: Sender,
    market: Option<MarketAgent>,
    battery: Vec<Option<u16>>,
    /// Readings closed but not yet stored (the store failed: a full disk), kept to store with
    /// the next; bounded by [`MAX_UNSAVED`], the oldest dropped beyond (and said).
    unsaved: Vec<interval::Reading>,
    /// Readings taken back from the last stop's spill file end here: intervals the restarted
    /// meter closes again up to it are the same ones, measured with fewer samples, so dropped.
    spilled_until: Option<u64>,
    /// Where unsaved readings go at a stop (the datadir's `daisee/`), if anywhere.
    spill_dir: Option<std::path::PathBuf>,
    /// The node, whose simulated clock (dev) stays after every reading closed.
    node: Node,
}

/// Why a meter could not start.
#[derive(Debug, thiserror::Error)]
enum StartError {
    /// Its state or outbox could not be read.
    #[error(transparent)]
    Store(#[from] crate::state::StoreError),
    /// A reader thread could not be started.
    #[error("cannot start a sensor's reader thread: {0}")]
    Reader(#[from] std::io::Error),
}

/// Readings kept in memory while the store cannot take them: a week at one-minute intervals.
const MAX_UNSAVED: usize = 10_080;

impl Running {
    fn start(
        node: &Node,
        mut spec: MeterSpec,
        spill_dir: Option<std::path::PathBuf>,
    ) -> Result<Self, StartError> {
        let address = spec.key.address();
        let outbox = Outbox::new(node.store().clone(), address);
        let state = outbox.state()?;
        for (sensor, saved) in spec.sensors.iter_mut().zip(&state.sensors) {
            if let Some(rule) = saved.timer {
                sensor.source.restore_timer_rule(rule);
            }
            if let Some((last, _)) = saved.integrator.last {
                let registers = saved.registers.as_ref().and_then(|(drawn, returned)| {
                    Some(daisee_radio::Registers {
                        import_wh: drawn.last_raw()?,
                        export_wh: returned.last_raw(),
                    })
                });
                sensor.source.resume_after(last, registers);
            }
        }
        // Devices and the network are read on their own threads: a sample is stamped when it
        // arrives, and a meter that stops answering holds up nobody.
        spec.sensors = std::mem::take(&mut spec.sensors)
            .into_iter()
            .map(|sensor| {
                if !sensor.source.live() {
                    return Ok(sensor);
                }
                let source = daisee_radio::source::threaded::Threaded::spawn(sensor.source)?;
                Ok(SensorSpec { direction: sensor.direction, source: Box::new(source) })
            })
            .collect::<std::io::Result<_>>()?;
        let entries = outbox.entries()?;
        let waiting = entries.len();
        // With dev's simulated clock, no block is sealed before a reading the meter holds ends.
        node.keep_time_after(entries.iter().map(|e| e.reading.interval_end).max().unwrap_or(0));
        tracing::info!(target: "daisee::meter", name = %spec.name, meter = %address, sensors = spec.sensors.len(), interval = spec.interval_s, waiting, "meter started");
        let directions = spec.sensors.iter().map(|s| s.direction).collect();
        let battery = vec![None; spec.sensors.len()];
        let ledger: Box<dyn Ledger> = match &spec.target {
            Some(url) => {
                let remote = RemoteLedger::new(url);
                Box::new(remote.map_err(|e| crate::state::StoreError::Corrupt(e.to_string()))?)
            }
            None => Box::new(LocalLedger(node.clone())),
        };
        // Readings end on the community's grid: its interval wins over the configured one.
        if let (Abi::V2, Some(community)) =
            (spec.abi, sender::community_interval(&*ledger, spec.contract, address))
        {
            if community != spec.interval_s {
                tracing::warn!(target: "daisee::meter", name = %spec.name, configured = spec.interval_s, community, "the community's interval is {community} s: the meter reports on it ([meter] interval is ignored; set it to {community})");
                spec.interval_s = community;
            }
        }
        let sender = Sender::new(ledger, spec.key.clone(), spec.contract);
        let market = match (&spec.market, spec.abi) {
            (Some(m), Abi::V2) => Some(MarketAgent::new(m.clone(), spec.interval_s)),
            _ => None,
        };
        let mut unsaved = Vec::new();
        if let Some(dir) = &spill_dir {
            match spill::read(dir, &address, MAX_UNSAVED) {
                Ok(readings) if !readings.is_empty() => {
                    tracing::warn!(target: "daisee::meter", name = %spec.name, readings = readings.len(), "taking back the readings the last run could not store");
                    unsaved = readings;
                }
                Ok(_) => {}
                Err(e) => tracing::error!(target: "daisee::meter", name = %spec.name, "{e}"),
            }
        }
        let spilled_until = unsaved.iter().map(|r| r.interval_end).max();
        Ok(Self {
            spec,
            directions,
            state,
            outbox,
            sender,
            market,
            battery,
            unsaved,
            spilled_until,
            spill_dir,
            node: node.clone(),
        })
    }

    /// At a stop: readings still unsaved go to the spill file, to be taken back at the start.
    fn spill(&self) {
        let (Some(dir), false) = (&self.spill_dir, self.unsaved.is_empty()) else { return };
        let meter = self.spec.key.address();
        match spill::write(dir, &meter, &self.unsaved) {
            Ok(path) => {
                tracing::warn!(target: "daisee::meter", name = %self.spec.name, readings = self.unsaved.len(), "readings the database could not store are in {}; the next start takes them back", path.display())
            }
            Err(e) => {
                tracing::error!(target: "daisee::meter", name = %self.spec.name, readings = self.unsaved.len(), "readings lost at this stop: {e}")
            }
        }
    }

    fn tick(&mut self) -> Result<(), crate::state::StoreError> {
        let mut polled = Vec::new();
        for (i, sensor) in self.spec.sensors.iter_mut().enumerate() {
            match sensor.source.poll() {
                Ok(samples) => {
                    if let Some(b) = samples.last().and_then(|s| s.battery_mv) {
                        self.battery[i] = Some(b);
                    }
                    polled.push(samples);
                }
                Err(e) => {
                    tracing::warn!(target: "daisee::meter", name = %self.spec.name, "sensor {i}: {e}");
                    polled.push(Vec::new());
                }
            }
        }
        let now = self.spec.sensors.iter().map(|s| s.source.now_ms()).min().unwrap_or(0);
        let got = polled.iter().any(|p| !p.is_empty());
        let before = self.state.open_end_ms;
        let mut closed = std::mem::take(&mut self.unsaved);
        let fresh = self.state.advance(self.spec.interval_s * 1000, &self.directions, polled, now);
        let until = self.spilled_until;
        closed.extend(fresh.into_iter().filter(|r| until.is_none_or(|u| r.interval_end > u)));
        self.node.keep_time_after(closed.iter().map(|r| r.interval_end).max().unwrap_or(0));
        for (saved, sensor) in self.state.sensors.iter_mut().zip(&self.spec.sensors) {
            saved.timer = sensor.source.timer_rule();
        }
        if got || !closed.is_empty() || before != self.state.open_end_ms {
            if let Err(e) = self.outbox.save(&self.state, &closed, self.spec.abi) {
                if closed.len() > MAX_UNSAVED {
                    let dropped = closed.len() - MAX_UNSAVED;
                    tracing::error!(target: "daisee::meter", name = %self.spec.name, dropped, "readings lost: the store has failed for too long");
                    closed.drain(..dropped);
                }
                self.unsaved = closed;
                return Err(e);
            }
            // Taken back and stored: the spill file has done its job.
            if let (Some(dir), Some(_)) = (&self.spill_dir, self.spilled_until) {
                if closed.iter().any(|r| Some(r.interval_end) <= self.spilled_until) {
                    if let Err(e) = spill::remove(dir, &self.spec.key.address()) {
                        tracing::error!(target: "daisee::meter", "{e}");
                    }
                }
            }
        }
        for r in &closed {
            tracing::info!(target: "daisee::meter", name = %self.spec.name, interval_end = r.interval_end, produced_wh = r.produced_wh, consumed_wh = r.consumed_wh, "reading");
        }
        let now = daisee_radio::source::wall_ms();
        self.sender.step(&self.outbox, now)?;
        if let Some(agent) = &mut self.market {
            agent.step(self.sender.ledger(), &self.spec.key, self.spec.contract, now);
        }
        Ok(())
    }

    fn status(&self) -> MeterStatus {
        MeterStatus {
            name: self.spec.name.clone(),
            address: self.spec.key.address(),
            interval: self.spec.interval_s,
            outbox: self.outbox.entries().map(|e| e.len()).unwrap_or(0) + self.unsaved.len(),
            gaps: self.state.gaps,
            rebases: self.state.rebases,
            sender: self.sender.counters.clone(),
            sensors: self
                .spec
                .sensors
                .iter()
                .zip(&self.state.sensors)
                .zip(&self.battery)
                .map(|((sensor, state), battery)| SensorStatus {
                    direction: sensor.direction,
                    source: sensor.source.kind(),
                    last_sample_ms: state.integrator.last.map(|(t, _)| t),
                    last_sample_age_ms: state
                        .integrator
                        .last
                        .map(|(t, _)| sensor.source.now_ms().saturating_sub(t)),
                    last_power_w: state.integrator.last.map(|(_, p)| p),
                    battery_mv: *battery,
                    last_interval_compat_sum_watts: state.last_compat_sum_w,
                    stats: sensor.source.stats(),
                })
                .collect(),
            market: self.market.as_ref().map(|m| m.counters.clone()),
        }
    }
}

/// Runs the meters on their own thread (sources block on devices) until `stop` is set.
/// `spill_dir` (the datadir's `daisee/`) keeps readings the database could not store across a
/// stop.
pub fn spawn(
    node: Node,
    meters: Vec<MeterSpec>,
    board: StatusBoard,
    stop: Arc<AtomicBool>,
    spill_dir: Option<std::path::PathBuf>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("daisee-meters".into()).spawn(move || {
        let mut running = Vec::new();
        for spec in meters {
            match Running::start(&node, spec, spill_dir.clone()) {
                Ok(r) => running.push(r),
                Err(e) => tracing::error!(target: "daisee::meter", "cannot start a meter: {e}"),
            }
        }
        // A failing store (a full disk) fails every tick: said once a minute, with the count.
        let mut failures = 0u64;
        let mut said: Option<std::time::Instant> = None;
        while !stop.load(Ordering::Relaxed) {
            let writing = node.hold_writes();
            for meter in &mut running {
                if let Err(e) = meter.tick() {
                    failures += 1;
                    if crate::node::is_write_failure(&e) {
                        node.note_write_failure("readings could not be stored", &e);
                    }
                    if said.is_none_or(|at| at.elapsed() >= Duration::from_secs(60)) {
                        tracing::error!(
                            target: "daisee::meter",
                            name = %meter.spec.name,
                            failures,
                            "cannot store readings: {e} (they stay in memory meanwhile; a full disk? \
                             free space and restart the node)"
                        );
                        said = Some(std::time::Instant::now());
                    }
                }
                board.set(meter.spec.key.address(), meter.status());
            }
            drop(writing);
            std::thread::sleep(POLL_EVERY);
        }
        for meter in &running {
            meter.spill();
        }
        let _ = node.store().flush();
    })
}

#[cfg(test)]
mod market_tests;
#[cfg(test)]
mod sender_tests;
