//! A meter whose readings a device publishes on an MQTT broker (Tasmota's `tele/…/SENSOR`, a
//! Shelly's MQTT, Home Assistant's states): each message on the topic carries the meter's
//! cumulative energy, as a plain number or at a path in a JSON object, in Wh or kWh, and
//! optionally the returned energy and the power. Messages are bounded (64 KiB); one that does
//! not hold a plausible total is counted, never read; a broker that refuses the connection, is
//! gone, or a topic silent for five minutes is counted and said (once a minute at most).

use super::polled::{power_w, Warner};
use super::{wall_ms, Registers, Sample, Source, SourceError, SourceStats};
use rumqttc::{Client, Connection, Event, MqttOptions, Packet, QoS, RecvTimeoutError};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The largest message taken from the broker.
pub const MAX_MESSAGE: usize = 64 * 1024;
/// A topic silent this long is counted and said.
pub const SILENCE: Duration = Duration::from_secs(300);
/// After a connection failure, the broker is tried again this much later.
const RETRY: Duration = Duration::from_secs(5);

/// What to read in each message.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    /// Dotted path of the energy total in a JSON message (`ENERGY.Total`); `None`: the whole
    /// message is the number.
    pub energy: Option<String>,
    /// Dotted path of the returned energy total, if the device counts it.
    pub returned: Option<String>,
    /// Dotted path of the power, W.
    pub power: Option<String>,
    /// The totals are in kWh (else Wh).
    pub kwh: bool,
}

/// The settings of one MQTT meter.
#[derive(Debug, Clone)]
pub struct MqttSettings {
    /// The broker's host.
    pub host: String,
    /// Its port (1883).
    pub port: u16,
    /// The topic the device publishes on (no wildcards).
    pub topic: String,
    /// The client id this node connects with.
    pub client_id: String,
    /// User name and password, if the broker asks for them.
    pub credentials: Option<(String, String)>,
    /// What to read.
    pub fields: Fields,
}

/// An MQTT meter.
pub struct MqttSource {
    client: Client,
    connection: Connection,
    settings: MqttSettings,
    /// Connection failures wait until then.
    retry_at: Option<Instant>,
    last_message: Instant,
    stats: SourceStats,
    warner: Warner,
}

impl std::fmt::Debug for MqttSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttSource").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// The number at `path` (dotted) in `value`: a JSON number, or a string holding one (Home
/// Assistant's states are strings).
fn number_at(value: &Value, path: &str) -> Option<f64> {
    let at = path.split('.').try_fold(value, |v, key| match v {
        Value::Array(items) => items.get(key.parse::<usize>().ok()?),
        _ => v.get(key),
    })?;
    match at {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Why a message gave no reading.
#[derive(Debug, PartialEq)]
enum Unread {
    /// Not the format configured (not JSON, no such field).
    Garbled(String),
    /// A value that is no energy total.
    Implausible(String),
}

impl Fields {
    /// The registers and power in one message.
    fn read(&self, payload: &[u8]) -> Result<(Registers, Option<f64>), Unread> {
        let text = std::str::from_utf8(payload)
            .map_err(|_| Unread::Garbled("the message is not text".into()))?;
        let json = match &self.energy {
            Some(_) => Some(
                serde_json::from_str::<Value>(text)
                    .map_err(|e| Unread::Garbled(format!("the message is not JSON ({e})")))?,
            ),
            None => None,
        };
        let field = |path: &Option<String>| -> Result<Option<f64>, Unread> {
            match (path, &json) {
                (Some(path), Some(json)) => number_at(json, path)
                    .map(Some)
                    .ok_or_else(|| Unread::Garbled(format!("the message has no number at {path}"))),
                _ => Ok(None),
            }
        };
        let energy = match &json {
            Some(_) => field(&self.energy)?.unwrap_or_default(),
            None => text
                .trim()
                .parse::<f64>()
                .map_err(|_| Unread::Garbled(format!("{:.40?} is not a number", text)))?,
        };
        let wh = |value: f64| -> Result<u64, Unread> {
            let wh = if self.kwh { value * 1000.0 } else { value };
            (wh.is_finite() && (0.0..1.0e15).contains(&wh))
                .then(|| wh.round() as u64)
                .ok_or_else(|| Unread::Implausible(format!("implausible energy total {value}")))
        };
        let registers = Registers {
            import_wh: wh(energy)?,
            export_wh: field(&self.returned)?.map(wh).transpose()?,
        };
        Ok((registers, field(&self.power).ok().flatten()))
    }
}

impl MqttSource {
    /// Connects to the broker (in the background: the first polls complete the handshake).
    pub fn connect(settings: MqttSettings) -> Result<Self, SourceError> {
        if settings.topic.is_empty() || settings.topic.contains(['+', '#']) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("MQTT topic {:?}: one topic, without wildcards", settings.topic),
            )
            .into());
        }
        let mut options = MqttOptions::new(&settings.client_id, &settings.host, settings.port);
        options.set_keep_alive(Duration::from_secs(30));
        options.set_max_packet_size(MAX_MESSAGE, MAX_MESSAGE);
        options.set_clean_session(true);
        if let Some((user, password)) = &settings.credentials {
            options.set_credentials(user, password);
        }
        let (client, connection) = Client::new(options, 16);
        Ok(Self {
            client,
            connection,
            settings,
            retry_at: None,
            last_message: Instant::now(),
            stats: SourceStats::default(),
            warner: Warner::default(),
        })
    }

    fn warn(&mut self, what: &str) {
        if self.warner.now() {
            let s = &self.settings;
            tracing::warn!(target: "daisee::meter", broker = %format!("{}:{}", s.host, s.port), topic = %s.topic, "MQTT meter: {what}");
        }
    }

    /// One message on the topic.
    fn message(&mut self, payload: &[u8]) -> Option<Sample> {
        self.last_message = Instant::now();
        match self.settings.fields.read(payload) {
            Ok((registers, power)) => {
                self.stats.accepted += 1;
                let power_w = power_w(power);
                Some(Sample {
                    at_ms: wall_ms(),
                    power_w,
                    battery_mv: None,
                    registers: Some(registers),
                })
            }
            Err(Unread::Garbled(why)) => {
                self.stats.corrupt += 1;
                self.warn(&why);
                None
            }
            Err(Unread::Implausible(why)) => {
                self.stats.implausible += 1;
                self.warn(&why);
                None
            }
        }
    }
}

impl Source for MqttSource {
    fn kind(&self) -> &'static str {
        "mqtt"
    }

    fn live(&self) -> bool {
        true
    }

    fn poll(&mut self) -> Result<Vec<Sample>, SourceError> {
        if let Some(at) = self.retry_at {
            let now = Instant::now();
            if now < at {
                std::thread::sleep((at - now).min(Duration::from_millis(100)));
                return Ok(Vec::new());
            }
            self.retry_at = None;
        }
        let mut samples = Vec::new();
        // What arrived, up to 100 ms of waiting.
        let until = Instant::now() + Duration::from_millis(100);
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            match self.connection.recv_timeout(left) {
                Ok(Ok(Event::Incoming(Packet::ConnAck(_)))) => {
                    // A clean session each time: subscribe again after every (re)connection.
                    let topic = self.settings.topic.clone();
                    if let Err(e) = self.client.try_subscribe(topic, QoS::AtLeastOnce) {
                        self.warn(&format!("cannot subscribe: {e}"));
                    }
                    tracing::info!(target: "daisee::meter", topic = %self.settings.topic, "MQTT meter: connected to the broker");
                }
                Ok(Ok(Event::Incoming(Packet::Publish(p)))) if p.topic == self.settings.topic => {
                    samples.extend(self.message(&p.payload));
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    match e {
                        rumqttc::ConnectionError::ConnectionRefused(_) => self.stats.refused += 1,
                        _ => self.stats.timeouts += 1,
                    }
                    self.warn(&format!("{e}: trying again every {} s", RETRY.as_secs()));
                    self.retry_at = Some(Instant::now() + RETRY);
                    break;
                }
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(std::io::Error::other("the MQTT client stopped").into())
                }
            }
        }
        if self.last_message.elapsed() >= SILENCE {
            self.stats.timeouts += 1;
            self.last_message = Instant::now();
            let said = format!(
                "nothing on the topic for {} s: is the device publishing there?",
                SILENCE.as_secs()
            );
            self.warn(&said);
        }
        Ok(samples)
    }

    fn now_ms(&self) -> u64 {
        wall_ms()
    }

    fn stats(&self) -> SourceStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(energy: Option<&str>, returned: Option<&str>, kwh: bool) -> Fields {
        Fields {
            energy: energy.map(str::to_string),
            returned: returned.map(str::to_string),
            power: Some("ENERGY.Power".into()),
            kwh,
        }
    }

    #[test]
    fn tasmota_plain_and_home_assistant_messages_are_read() {
        let tasmota = br#"{"Time":"2026-12-02T10:00:00","ENERGY":{"TotalStartTime":"2024-01-01T00:00:00","Total":1234.567,"Yesterday":3.1,"Today":1.2,"Power":420,"Voltage":231}}"#;
        let (registers, power) = fields(Some("ENERGY.Total"), None, true).read(tasmota).unwrap();
        assert_eq!(registers, Registers { import_wh: 1_234_567, export_wh: None });
        assert_eq!(power, Some(420.0));
        let (plain, _) = fields(None, None, false).read(b" 98765.4\n").unwrap();
        assert_eq!(plain.import_wh, 98_765);
        let state = br#"{"state":"5021.25","attributes":{"returned":["1.5","12.25"]}}"#;
        let (ha, _) =
            fields(Some("state"), Some("attributes.returned.1"), true).read(state).unwrap();
        assert_eq!(ha, Registers { import_wh: 5_021_250, export_wh: Some(12_250) });
    }

    #[test]
    fn messages_that_hold_no_total_are_refused_with_the_reason() {
        let f = fields(Some("ENERGY.Total"), None, true);
        for (bad, garbled) in [
            (&b"not json"[..], true),
            (&br#"{"ENERGY":{"Today":1}}"#[..], true),
            (&br#"{"ENERGY":{"Total":"abc"}}"#[..], true),
            (&b"\xff\xfe"[..], true),
            (&br#"{"ENERGY":{"Total":-3}}"#[..], false),
            (&br#"{"ENERGY":{"Total":1e300}}"#[..], false),
        ] {
            match f.read(bad) {
                Err(Unread::Garbled(_)) => assert!(garbled, "{bad:?}"),
                Err(Unread::Implausible(_)) => assert!(!garbled, "{bad:?}"),
                Ok(r) => panic!("{bad:?} read as {r:?}"),
            }
        }
        assert!(matches!(fields(None, None, false).read(b"NaN"), Err(Unread::Implausible(_))));
        assert!(matches!(fields(None, None, false).read(b"12 Wh"), Err(Unread::Garbled(_))));
    }
}
