//! Meters of the `daisee` command: the `[meter]` section of the config file (which sensor, on
//! which bus, with which key, measuring which direction), the three simulated households of
//! `daisee dev`, and opening each sensor's source.
//!
//! ```toml
//! [meter]
//! account = "0x…"           # a keystore account given to `unlock`, registered in the contract
//! interval = 900            # seconds (default: 15 minutes)
//!
//! [[meter.sensor]]
//! direction = "consumption" # "production", or "grid" for a utility meter (drawn, returned)
//! source = "spi"            # spi | serial | sim | replay | tic | p1 | modbus | shelly | mqtt
//!                           # (each source's settings: `meter_sources.rs`, docs/meters.md)
//! backend = "rpi"           # spi: rpi (rppal) or linux (spidev + gpiochip)
//! ce_gpio = 25              # rpi: BCM pin of CE
//! key = "…"               # the key the CitizenWatt base shows (16 numbers or 32 hex digits);
//!                           # "factory" accepts the factory key 0-1-…-15, which anyone can use
//!
//! [meter.market]            # optional: settlement is on by default, with no deposits
//! settle = true             # settle the intervals this meter reported
//! escrow = "0.05"           # ether kept in escrow for automatic purchases (topped up below half)
//! ask = 12000000000000      # wei per Wh: sell no cheaper (default: the community rate)
//! bid = 18000000000000      # wei per Wh: buy no dearer (default: the community rate)
//! ```

use anyhow::{bail, Context};
use daisee_node::community::DAISEE_ADDRESS;
use daisee_node::meter::{Abi, Direction, MarketSpec, MeterSpec, SensorSpec};
use daisee_node::primitives::{Address, PrivateKey, U256};

/// Each simulated household keeps 1 ether in escrow for the market (about 67 kWh at the rate).
const DEV_ESCROW_WEI: u128 = 1_000_000_000_000_000_000;
use crate::meter_sources::{open, SourceConfig};
use daisee_radio::source::emulated::{Emulated, EmulatedMeter};
use daisee_radio::source::sim::{Profile, SimClock, SimSensor};
use serde::Deserialize;
use std::path::Path;

/// The `[meter]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeterConfig {
    /// The meter account (must be unlocked).
    pub account: Address,
    /// Interval, seconds.
    #[serde(default = "default_interval")]
    pub interval: u64,
    /// The Daisee contract (default: the predeployed one).
    pub contract: Option<Address>,
    /// Send to this external JSON-RPC endpoint instead of the local chain (`--meter-target`).
    pub target: Option<String>,
    /// `v2` (default: `reportReading`) or `v1` (the 2016 `setProduction` / `consumeEnergy`).
    #[serde(default)]
    pub abi: Abi,
    /// The sensors.
    #[serde(rename = "sensor", default)]
    pub sensors: Vec<SensorConfig>,
    /// The community market.
    #[serde(default)]
    pub market: MarketConfig,
}

/// The `[meter.market]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketConfig {
    /// Settle the intervals this meter reported.
    #[serde(default = "yes")]
    pub settle: bool,
    /// Ether to keep in escrow (decimal string); none: never deposit.
    pub escrow: Option<String>,
    /// Ask, wei per Wh.
    pub ask: Option<u64>,
    /// Bid, wei per Wh.
    pub bid: Option<u64>,
}

impl Default for MarketConfig {
    fn default() -> Self {
        Self { settle: true, escrow: None, ask: None, bid: None }
    }
}

fn yes() -> bool {
    true
}

impl MarketConfig {
    /// What the market agent is told, or `None` when settlement is off.
    pub fn spec(&self) -> anyhow::Result<Option<MarketSpec>> {
        if !self.settle {
            return Ok(None);
        }
        let escrow_wei = match &self.escrow {
            Some(text) => alloy_primitives::utils::parse_ether(text).with_context(|| {
                format!("[meter.market] escrow {text:?} is not an ether amount")
            })?,
            None => U256::ZERO,
        };
        Ok(Some(MarketSpec {
            escrow_wei,
            ask: self.ask.map(U256::from),
            bid: self.bid.map(U256::from),
        }))
    }
}

/// Fifteen minutes: the EU's electricity settlement period since 2025, and what a ledger every
/// neighbour holds should show of a household (a reading a minute reveals what it does).
fn default_interval() -> u64 {
    900
}

/// One `[[meter.sensor]]`.
#[derive(Debug, Clone, Deserialize)]
pub struct SensorConfig {
    /// What it measures.
    pub direction: Direction,
    /// Where its samples come from.
    #[serde(flatten)]
    pub source: SourceConfig,
}

/// The board's meter from the config file (`target`: `--meter-target`, over the file's).
pub fn from_config(
    config: &MeterConfig,
    unlocked: &[PrivateKey],
    base: &Path,
    target: Option<String>,
) -> anyhow::Result<MeterSpec> {
    let key = unlocked.iter().find(|k| k.address() == config.account).with_context(|| {
        format!("the meter account {} must be unlocked (--unlock and --password)", config.account)
    })?;
    if config.sensors.is_empty() {
        bail!("[meter] has no [[meter.sensor]]");
    }
    let sensors = config
        .sensors
        .iter()
        .map(|s| Ok(SensorSpec { direction: s.direction, source: open(&s.source, base)? }))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(MeterSpec {
        name: "meter".into(),
        key: key.clone(),
        interval_s: config.interval.max(1),
        contract: config.contract.unwrap_or(DAISEE_ADDRESS),
        sensors,
        target: target.or_else(|| config.target.clone()),
        abi: config.abi,
        market: config.market.spec()?,
    })
}

/// `daisee dev`'s households: a producer, a consumer and a prosumer (the last three dev
/// accounts, leaving the first ones to the user), on a simulated `clock` (the one the dev chain
/// seals by); with `meter`, each sensor is seen through
/// an emulated utility meter's frames (read by the real decoders).
pub fn dev_households(
    keys: &[PrivateKey],
    interval_s: u64,
    clock: SimClock,
    meter: Option<Emulated>,
) -> Vec<MeterSpec> {
    let sim = |direction, profile, seed: u64| {
        let household = Box::new(SimSensor::new(profile, seed, clock));
        let source: Box<dyn daisee_radio::Source> = match meter {
            // A meter with some years behind it: its register does not start at zero.
            Some(format) => Box::new(EmulatedMeter::new(household, format, seed * 2_345_678)),
            None => household,
        };
        SensorSpec { direction, source }
    };
    let households = [
        ("producer", vec![sim(Direction::Production, Profile::Solar { peak_w: 3000 }, 1)]),
        ("consumer", vec![sim(Direction::Consumption, Profile::Load { base_w: 300 }, 2)]),
        (
            "prosumer",
            vec![
                sim(Direction::Production, Profile::Solar { peak_w: 2000 }, 3),
                sim(Direction::Consumption, Profile::Load { base_w: 250 }, 4),
            ],
        ),
    ];
    households
        .into_iter()
        .zip(keys.iter().skip(keys.len().saturating_sub(3).max(1)))
        .map(|((name, sensors), key)| MeterSpec {
            name: name.into(),
            key: key.clone(),
            interval_s,
            contract: DAISEE_ADDRESS,
            sensors,
            target: None,
            abi: Abi::V2,
            market: Some(MarketSpec {
                escrow_wei: U256::from(DEV_ESCROW_WEI),
                ask: None,
                bid: None,
            }),
        })
        .collect()
}
