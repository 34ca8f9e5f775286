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
//! source = "spi"            # spi | serial | sim | replay | tic | p1
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
use daisee_radio::source::replay::ReplaySource;
use daisee_radio::source::serial::SerialSource;
use daisee_radio::source::sim::{Profile, SimClock, SimSensor};
use daisee_radio::{SensorKey, Source};
use serde::Deserialize;
use std::path::{Path, PathBuf};

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

/// A sensor's source and its settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "source", rename_all = "lowercase")]
pub enum SourceConfig {
    /// The nRF24L01+ on SPI.
    Spi {
        /// `rpi` or `linux`.
        backend: String,
        /// Sensor key.
        key: Option<String>,
        /// rpi: CE pin (BCM).
        ce_gpio: Option<u8>,
        /// linux: spidev device.
        spidev: Option<PathBuf>,
        /// linux: GPIO chip.
        gpiochip: Option<PathBuf>,
        /// linux: CE line.
        ce_line: Option<u32>,
        /// `250k` (default) or `1m`.
        data_rate: Option<daisee_radio::nrf24::DataRate>,
        /// RF channel (default 76).
        channel: Option<u8>,
        /// Sensor address, 10 hex digits (default E056D446D0).
        address: Option<String>,
    },
    /// The 2016 Arduino bridge on a serial port.
    Serial {
        /// e.g. `/dev/ttyACM0`.
        path: PathBuf,
        /// Sensor key.
        key: Option<String>,
    },
    /// A simulated sensor.
    Sim {
        /// What it simulates.
        profile: Profile,
        /// Seed.
        #[serde(default)]
        seed: u64,
        /// Faster than real time (demonstrations, tests); default 1.
        speed: Option<f64>,
        /// Unix time (s) an accelerated clock starts at (default: now).
        start: Option<u64>,
    },
    /// A Linky's customer port (TIC) through a USB TIC reader.
    Tic {
        /// e.g. `/dev/ttyUSB0`.
        path: PathBuf,
        /// `historique` (1200 Bd, the meter's default), `standard` (9600 Bd: producers) or
        /// `auto` (default: 9600 Bd, then 1200 Bd when nothing decodes).
        mode: Option<String>,
    },
    /// A DSMR meter's P1 port through a P1 cable.
    P1 {
        /// e.g. `/dev/ttyUSB0`.
        path: PathBuf,
        /// 115200 (DSMR 4 and 5, default) or 9600 (DSMR 2.2 and 3, 7E1).
        baud: Option<u32>,
    },
    /// A recorded file of frames.
    Replay {
        /// The recording.
        path: PathBuf,
        /// Sensor key.
        key: Option<String>,
        /// Playback speed (default 1).
        speed: Option<f64>,
    },
}

/// A sensor's key from the config: required, and the factory key only when asked for by name.
fn key(text: &Option<String>) -> anyhow::Result<SensorKey> {
    let factory = SensorKey::default();
    let key = match text.as_deref().map(str::trim) {
        None => bail!(
            "the sensor has no `key`: give the key its CitizenWatt base shows (key = \"…\"), or \
             key = \"factory\" to accept the factory key, with which anyone in radio range can \
             forge readings"
        ),
        Some("factory") => factory.clone(),
        Some(t) => t.parse()?,
    };
    if key == factory {
        tracing::warn!(
            target: "daisee::meter",
            "a sensor uses the factory key 0-1-…-15: anyone in radio range can forge its readings; \
             set a key of your own on the sensor and its base"
        );
    }
    Ok(key)
}

/// Opens one sensor's source; relative paths are taken from `base`.
fn open(source: &SourceConfig, base: &Path) -> anyhow::Result<Box<dyn Source>> {
    Ok(match source {
        SourceConfig::Tic { path, mode } => {
            use daisee_radio::tic::TicMode;
            let mode = match mode.as_deref().unwrap_or("auto") {
                "historique" => Some(TicMode::Historique),
                "standard" => Some(TicMode::Standard),
                "auto" => None,
                other => bail!("TIC mode {other:?}: historique, standard or auto"),
            };
            let path = base.join(path);
            Box::new(
                daisee_radio::source::meters::TicSource::open(&path, mode)
                    .with_context(|| format!("opening {}", path.display()))?,
            )
        }
        SourceConfig::P1 { path, baud } => {
            let path = base.join(path);
            Box::new(
                daisee_radio::source::meters::P1Source::open(&path, baud.unwrap_or(115_200))
                    .with_context(|| format!("opening {}", path.display()))?,
            )
        }
        SourceConfig::Serial { path, key: k } => {
            let path = base.join(path);
            Box::new(
                SerialSource::open(&path, key(k)?)
                    .with_context(|| format!("opening {}", path.display()))?,
            )
        }
        SourceConfig::Sim { profile, seed, speed, start } => {
            let clock = match speed {
                Some(speed) if *speed != 1.0 => {
                    let start =
                        start.map(|s| s * 1000).unwrap_or_else(daisee_radio::source::wall_ms);
                    SimClock::accelerated(start, *speed)
                }
                _ => SimClock::wall(),
            };
            Box::new(SimSensor::new(*profile, *seed, clock))
        }
        SourceConfig::Replay { path, key: k, speed } => {
            let path = base.join(path);
            Box::new(
                ReplaySource::open(&path, key(k)?, speed.unwrap_or(1.0))
                    .with_context(|| format!("reading {}", path.display()))?,
            )
        }
        SourceConfig::Spi {
            backend,
            key: k,
            ce_gpio,
            spidev,
            gpiochip,
            ce_line,
            data_rate,
            channel,
            address,
        } => {
            let mut radio = daisee_radio::nrf24::RadioConfig::default();
            if let Some(rate) = data_rate {
                radio.data_rate = *rate;
            }
            if let Some(ch) = channel {
                radio.channel = *ch;
            }
            if let Some(a) = address {
                let bytes = hex::decode(a.trim_start_matches("0x")).context("sensor address")?;
                radio.address = bytes
                    .try_into()
                    .map_err(|_| anyhow::anyhow!("a sensor address is 5 bytes (10 hex digits)"))?;
            }
            let _ = (&ce_gpio, &spidev, &gpiochip, &ce_line, &radio, k);
            match backend.as_str() {
                #[cfg(feature = "rpi")]
                "rpi" => daisee_radio::source::radio::open_rpi(radio, ce_gpio.unwrap_or(25), key(k)?)?,
                #[cfg(feature = "linux")]
                "linux" => daisee_radio::source::radio::open_linux(
                    radio,
                    spidev.as_deref().unwrap_or(Path::new("/dev/spidev0.0")),
                    gpiochip.as_deref().unwrap_or(Path::new("/dev/gpiochip0")),
                    ce_line.unwrap_or(25),
                    key(k)?,
                )?,
                "rpi" | "linux" => bail!("this daisee was built without the `{backend}` feature: cargo build --release --features {backend}"),
                other => bail!("unknown SPI backend {other:?} (rpi or linux)"),
            }
        }
    })
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
/// accounts, leaving the first ones to the user), on a simulated clock that starts at `start_s`
/// and runs `speed` times as fast as the wall clock.
pub fn dev_households(
    keys: &[PrivateKey],
    interval_s: u64,
    speed: f64,
    start_s: u64,
) -> Vec<MeterSpec> {
    let clock = SimClock::accelerated(start_s * 1000, speed);
    let sim = |direction, profile, seed| SensorSpec {
        direction,
        source: Box::new(SimSensor::new(profile, seed, clock)),
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

#[cfg(test)]
mod tests {
    use super::{key, open, MeterConfig, SourceConfig};
    use std::path::Path;

    #[test]
    fn utility_meters_are_configured_in_a_few_lines_and_bad_settings_refused() {
        let config: MeterConfig = toml::from_str(
            "account = \"0x14dc79964da2c08b23698b3d3cc7ca32193d9955\"\n\
             [[sensor]]\ndirection = \"grid\"\nsource = \"tic\"\npath = \"/dev/null\"\nmode = \"weird\"\n\
             [[sensor]]\ndirection = \"grid\"\nsource = \"p1\"\npath = \"/nonexistent/tty\"\n",
        )
        .unwrap();
        assert_eq!(config.interval, 900, "15 minutes by default");
        assert!(matches!(config.sensors[1].source, SourceConfig::P1 { baud: None, .. }));
        let mode = open(&config.sensors[0].source, Path::new("/")).err().unwrap().to_string();
        assert!(mode.contains("historique, standard or auto"), "{mode}");
        let missing =
            format!("{:#}", open(&config.sensors[1].source, Path::new("/")).err().unwrap());
        assert!(missing.contains("/nonexistent/tty"), "{missing}");
        let baud = SourceConfig::P1 { path: "/dev/null".into(), baud: Some(4800) };
        let said = format!("{:#}", open(&baud, Path::new("/")).err().unwrap());
        assert!(said.contains("unsupported baud rate 4800"), "{said}");
    }

    #[test]
    fn a_sensor_key_must_be_given_and_the_factory_key_named() {
        let missing = key(&None).unwrap_err().to_string();
        assert!(missing.contains("factory"), "{missing}");
        assert_eq!(key(&Some("factory".into())).unwrap(), daisee_radio::SensorKey::default());
        let own = key(&Some("00112233445566778899aabbccddeeff".into())).unwrap();
        assert_ne!(own, daisee_radio::SensorKey::default());
        assert!(key(&Some("1-2-3".into())).is_err());
    }
}
