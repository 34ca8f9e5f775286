//! Where a `[[meter.sensor]]`'s samples come from: its `source` and that source's settings in
//! the config file, checked and opened (relative paths from the config file's folder). What each
//! source reads and how to wire it: docs/meters.md.
//!
//! ```toml
//! [[meter.sensor]]           # a DIN-rail meter on an RS485 adapter
//! direction = "grid"
//! source = "modbus"
//! path = "/dev/ttyUSB0"
//! model = "sdm630"           # or registers = { import = 72, export = 74, power = 52 }
//! slave = 1
//!
//! [[meter.sensor]]           # a Shelly Pro 3EM on the LAN
//! direction = "grid"
//! source = "shelly"
//! url = "http://192.168.1.50"
//! component = "em"           # em | em1 | switch | pm1
//!
//! [[meter.sensor]]           # a Tasmota plug publishing on a broker
//! direction = "consumption"
//! source = "mqtt"
//! broker = "127.0.0.1:1883"
//! topic = "tele/plug/SENSOR"
//! field = "ENERGY.Total"
//! unit = "kWh"
//! ```

use anyhow::{bail, Context};
use daisee_radio::source::replay::ReplaySource;
use daisee_radio::source::serial::SerialSource;
use daisee_radio::source::sim::{Profile, SimClock, SimSensor};
use daisee_radio::{SensorKey, Source};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How often a polled meter (Modbus, Shelly) is read unless `every` says otherwise, seconds.
const DEFAULT_EVERY_S: u64 = 10;

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
        /// Luxembourg's Smarty: the meter's decryption key (32 hex digits, from the supplier).
        key: Option<String>,
    },
    /// A DIN-rail meter on an RS485 adapter, over Modbus RTU.
    Modbus {
        /// e.g. `/dev/ttyUSB0`.
        path: PathBuf,
        /// `sdm120`, `sdm220`, `sdm230`, `sdm72` or `sdm630` (Eastron).
        model: Option<String>,
        /// Where another meter keeps its float32 values, instead of a model.
        registers: Option<daisee_radio::modbus::RegisterMap>,
        /// `input` (default) or `holding` registers.
        function: Option<String>,
        /// The meter's address, 1 to 247 (default 1).
        slave: Option<u8>,
        /// Line speed (default 9600).
        baud: Option<u32>,
        /// Seconds between readings (default 10).
        every: Option<u64>,
    },
    /// A Shelly Gen2+ meter or plug on the LAN, over its local HTTP RPC.
    Shelly {
        /// `http://192.168.1.50`.
        url: String,
        /// `em` (default: Pro 3EM), `em1` (Pro EM), `switch` (Plus 1PM, Plug S) or `pm1`.
        component: Option<daisee_radio::source::shelly::Component>,
        /// The component's id (default 0).
        channel: Option<u8>,
        /// Seconds between readings (default 10).
        every: Option<u64>,
    },
    /// A meter whose device publishes on an MQTT broker.
    Mqtt {
        /// `host:port` (port 1883 when left out); plain TCP.
        broker: String,
        /// The topic (no wildcards).
        topic: String,
        /// Dotted path of the energy total in a JSON message; none: the message is the number.
        field: Option<String>,
        /// Dotted path of the returned energy total.
        returned_field: Option<String>,
        /// Dotted path of the power, W.
        power_field: Option<String>,
        /// `Wh` (default) or `kWh`.
        unit: Option<String>,
        /// User name, if the broker asks for one.
        username: Option<String>,
        /// File holding the password (not the password itself: config files get shared).
        password_file: Option<PathBuf>,
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
pub fn open(source: &SourceConfig, base: &Path) -> anyhow::Result<Box<dyn Source>> {
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
        SourceConfig::P1 { path, baud, key } => {
            let key = match key {
                Some(text) => Some(daisee_radio::smarty::parse_key(text).context(
                    "a Smarty key is the 32 hex digits the supplier gives for the meter",
                )?),
                None => None,
            };
            if !matches!(baud, None | Some(9600 | 115_200)) {
                bail!("P1 baud {baud:?}: 115200 (DSMR 4 and 5) or 9600 (DSMR 2.2 and 3)");
            }
            let path = base.join(path);
            Box::new(
                daisee_radio::source::meters::P1Source::open(&path, baud.unwrap_or(115_200), key)
                    .with_context(|| format!("opening {}", path.display()))?,
            )
        }
        SourceConfig::Modbus { path, model, registers, function, slave, baud, every } => {
            use daisee_radio::modbus;
            let map = match (model, registers) {
                (Some(name), None) => modbus::model(name).with_context(|| {
                    format!(
                        "unknown Modbus model {name:?}: sdm120, sdm220, sdm230, sdm72 or sdm630, \
                         or give the meter's `registers`"
                    )
                })?,
                (None, Some(map)) => *map,
                _ => bail!("a Modbus meter needs either a `model` or its `registers`"),
            };
            let function = match function.as_deref().unwrap_or("input") {
                "input" => modbus::READ_INPUT_REGISTERS,
                "holding" => modbus::READ_HOLDING_REGISTERS,
                other => bail!("Modbus function {other:?}: input or holding"),
            };
            let path = base.join(path);
            let settings = daisee_radio::source::modbus::ModbusSettings {
                path: path.clone(),
                baud: baud.unwrap_or(9600),
                slave: slave.unwrap_or(1),
                map,
                function,
                every: Duration::from_secs(every.unwrap_or(DEFAULT_EVERY_S).max(1)),
            };
            Box::new(
                daisee_radio::source::modbus::ModbusSource::open(settings)
                    .with_context(|| format!("opening {}", path.display()))?,
            )
        }
        SourceConfig::Shelly { url, component, channel, every } => {
            use daisee_radio::source::shelly::{Component, ShellySource};
            Box::new(ShellySource::new(
                url,
                component.unwrap_or(Component::Em),
                channel.unwrap_or(0),
                Duration::from_secs(every.unwrap_or(DEFAULT_EVERY_S).max(1)),
            )?)
        }
        SourceConfig::Mqtt {
            broker,
            topic,
            field,
            returned_field,
            power_field,
            unit,
            username,
            password_file,
        } => {
            use daisee_radio::source::mqtt::{Fields, MqttSettings, MqttSource};
            let (host, port) = match broker.rsplit_once(':') {
                Some((host, port)) => (host, port.parse().context("the broker's port")?),
                None => (broker.as_str(), 1883),
            };
            let host = host.trim_start_matches("mqtt://");
            if host.is_empty() || host.contains('/') {
                bail!("MQTT broker {broker:?}: give host:port, e.g. 127.0.0.1:1883");
            }
            let kwh = match unit.as_deref().unwrap_or("Wh") {
                "Wh" | "wh" => false,
                "kWh" | "kwh" => true,
                other => bail!("MQTT unit {other:?}: Wh or kWh (energy totals)"),
            };
            let credentials = match (username, password_file) {
                (Some(user), Some(file)) => {
                    let file = base.join(file);
                    let password = std::fs::read_to_string(&file)
                        .with_context(|| format!("reading {}", file.display()))?;
                    Some((user.clone(), password.trim_end().to_string()))
                }
                (Some(user), None) => Some((user.clone(), String::new())),
                (None, Some(_)) => bail!("an MQTT password_file needs a username"),
                (None, None) => None,
            };
            Box::new(MqttSource::connect(MqttSettings {
                host: host.to_string(),
                port,
                topic: topic.clone(),
                client_id: format!(
                    "daisee-{}-{:08x}",
                    std::process::id(),
                    crc32fast::hash(topic.as_bytes())
                ),
                credentials,
                fields: Fields {
                    energy: field.clone(),
                    returned: returned_field.clone(),
                    power: power_field.clone(),
                    kwh,
                },
            })?)
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

#[cfg(test)]
#[path = "meter_sources_tests.rs"]
mod tests;
