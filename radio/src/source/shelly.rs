//! A Shelly Gen2+ meter or plug on the LAN, read over its local HTTP RPC every `every`: the
//! energy totals it keeps (Wh, drawn and returned) and its power. Components:
//! - `em`: a three-phase Pro 3EM / 3EM-63 (`EMData.GetStatus`: `total_act`, `total_act_ret`;
//!   `EM.GetStatus`: `total_act_power`);
//! - `em1`: one channel of a Pro EM / EM Gen3 (`EM1Data.GetStatus`: `total_act_energy`,
//!   `total_act_ret_energy`; `EM1.GetStatus`: `act_power`);
//! - `switch` and `pm1`: a Plus 1PM, Plug S, PM Mini… (`Switch.GetStatus` / `PM1.GetStatus`:
//!   `aenergy.total`, `ret_aenergy.total`, `apower`).
//!
//! Answers are bounded (64 KiB, 3 s, no redirects); a device that does not answer, answers with
//! an HTTP error, or answers something else than its documented JSON is counted and said in the
//! log (once a minute at most), never turned into a reading.

use super::polled::{power_w, Schedule, Warner};
use super::{wall_ms, Registers, Sample, Source, SourceError, SourceStats};
use serde_json::Value;
use std::time::Duration;

/// How long a device has to answer one request.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(3);
/// The largest answer read (a status is well under 2 KiB).
const MAX_ANSWER: u64 = 64 * 1024;

/// Which component of the device carries the meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Component {
    /// Three-phase energy meter (Pro 3EM).
    Em,
    /// One channel of an energy meter (Pro EM, EM Gen3).
    Em1,
    /// A metered switch or plug.
    Switch,
    /// A power meter without a relay (PM Mini).
    Pm1,
}

impl Component {
    /// The RPC methods to call: energy totals, then power (`None`: the same answer).
    fn methods(self) -> (&'static str, Option<&'static str>) {
        match self {
            Self::Em => ("EMData.GetStatus", Some("EM.GetStatus")),
            Self::Em1 => ("EM1Data.GetStatus", Some("EM1.GetStatus")),
            Self::Switch => ("Switch.GetStatus", None),
            Self::Pm1 => ("PM1.GetStatus", None),
        }
    }

    /// Drawn and returned Wh, in the energy answer.
    fn energy(self, status: &Value) -> (Option<f64>, Option<f64>) {
        let field = |path: &[&str]| -> Option<f64> {
            path.iter().try_fold(status, |v, key| v.get(key)).and_then(Value::as_f64)
        };
        match self {
            Self::Em => (field(&["total_act"]), field(&["total_act_ret"])),
            Self::Em1 => (field(&["total_act_energy"]), field(&["total_act_ret_energy"])),
            Self::Switch | Self::Pm1 => {
                (field(&["aenergy", "total"]), field(&["ret_aenergy", "total"]))
            }
        }
    }

    /// Active power, W, in the power answer.
    fn power(self, status: &Value) -> Option<f64> {
        let key = match self {
            Self::Em => "total_act_power",
            Self::Em1 => "act_power",
            Self::Switch | Self::Pm1 => "apower",
        };
        status.get(key).and_then(Value::as_f64)
    }
}

/// Wh as a device reports them → whole Wh, when they are an energy total.
fn total_wh(wh: f64) -> Option<u64> {
    (wh.is_finite() && (0.0..1.0e15).contains(&wh)).then(|| wh.round() as u64)
}

/// Why one request gave nothing.
enum Failure {
    Silent(String),
    Refused(String),
    Garbled(String),
    Implausible(String),
}

/// A Shelly device.
#[derive(Debug)]
pub struct ShellySource {
    agent: ureq::Agent,
    /// `http://host[:port]`, without a trailing slash.
    base: String,
    component: Component,
    channel: u8,
    schedule: Schedule,
    stats: SourceStats,
    warner: Warner,
}

impl ShellySource {
    /// A device at `url` (`http://192.168.1.50`; plain HTTP, as Shelly devices serve on the LAN),
    /// its `component` and `channel`, read every `every`.
    pub fn new(
        url: &str,
        component: Component,
        channel: u8,
        every: Duration,
    ) -> Result<Self, SourceError> {
        let base = url.trim_end_matches('/');
        let host = base.strip_prefix("http://").unwrap_or_default();
        if host.is_empty() || host.contains(['/', '?', '#', '@', ' ']) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "Shelly url {url:?}: give the device's address as http://192.168.1.50 (plain \
                     HTTP with no path; authentication must be off for the node to read it)"
                ),
            )
            .into());
        }
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(ANSWER_TIMEOUT))
            .http_status_as_error(false)
            .max_redirects(0)
            .max_response_header_size(16 * 1024)
            .build();
        Ok(Self {
            agent: ureq::Agent::new_with_config(config),
            base: base.to_string(),
            component,
            channel,
            schedule: Schedule::new(every),
            stats: SourceStats::default(),
            warner: Warner::default(),
        })
    }

    /// One RPC call's JSON answer.
    fn call(&self, method: &str) -> Result<Value, Failure> {
        let url = format!("{}/rpc/{method}?id={}", self.base, self.channel);
        let mut answer =
            self.agent.get(&url).call().map_err(|e| Failure::Silent(format!("{method}: {e}")))?;
        let status = answer.status().as_u16();
        let body = answer.body_mut().with_config().limit(MAX_ANSWER).read_to_string();
        match (status, body) {
            (200, Ok(body)) => serde_json::from_str(&body)
                .map_err(|e| Failure::Garbled(format!("{method}: not JSON ({e})"))),
            (200, Err(e)) => Err(Failure::Garbled(format!("{method}: {e}"))),
            (401, _) => Err(Failure::Refused(format!(
                "{method}: HTTP 401: the device asks for a password; turn its authentication off \
                 for the node, or put the node on a network only the household reaches"
            ))),
            (code, _) => Err(Failure::Refused(format!("{method}: HTTP {code}"))),
        }
    }

    fn warn(&mut self, what: &str) {
        if self.warner.now() {
            tracing::warn!(target: "daisee::meter", url = %self.base, "Shelly meter: {what}");
        }
    }

    /// Reads the device once.
    fn read(&mut self) -> Result<Sample, Failure> {
        let (energy_method, power_method) = self.component.methods();
        let energy = self.call(energy_method)?;
        let (drawn, returned) = self.component.energy(&energy);
        let drawn = drawn.ok_or_else(|| {
            Failure::Garbled(format!(
                "{energy_method} has no energy total: is it a {:?}?",
                self.component
            ))
        })?;
        let import_wh = total_wh(drawn)
            .ok_or_else(|| Failure::Implausible(format!("implausible energy total {drawn} Wh")))?;
        let export_wh = match returned {
            Some(wh) => Some(
                total_wh(wh)
                    .ok_or_else(|| Failure::Implausible(format!("implausible returned {wh} Wh")))?,
            ),
            None => None,
        };
        let power = match power_method {
            Some(method) => self.component.power(&self.call(method)?),
            None => self.component.power(&energy),
        };
        let power_w = power_w(power);
        Ok(Sample {
            at_ms: wall_ms(),
            power_w,
            battery_mv: None,
            registers: Some(Registers { import_wh, export_wh }),
        })
    }
}

impl Source for ShellySource {
    fn kind(&self) -> &'static str {
        "shelly"
    }

    fn live(&self) -> bool {
        true
    }

    fn poll(&mut self) -> Result<Vec<Sample>, SourceError> {
        if !self.schedule.due() {
            return Ok(Vec::new());
        }
        match self.read() {
            Ok(sample) => {
                self.stats.accepted += 1;
                Ok(vec![sample])
            }
            Err(failure) => {
                let said = match failure {
                    Failure::Silent(why) => {
                        self.stats.timeouts += 1;
                        format!("no answer ({why}): is the device on the network at this address?")
                    }
                    Failure::Refused(why) => {
                        self.stats.refused += 1;
                        why
                    }
                    Failure::Garbled(why) => {
                        self.stats.corrupt += 1;
                        why
                    }
                    Failure::Implausible(why) => {
                        self.stats.implausible += 1;
                        why
                    }
                };
                self.warn(&said);
                Ok(Vec::new())
            }
        }
    }

    fn now_ms(&self) -> u64 {
        wall_ms()
    }

    fn stats(&self) -> SourceStats {
        self.stats
    }
}
