//! Dutch, Belgian and Luxembourg smart meters' P1 port (DSMR 2.2 to 5.0.2, e-MUCS): the byte
//! stream decoded into telegrams — `/` identification line, OBIS lines such as
//! `1-0:1.8.1(004169.415*kWh)`, `!` and, from DSMR 4 on, a CRC-16 (CRC-16/ARC: polynomial 0xA001
//! reflected, initial 0) over `/` through `!` — and the energy registers a telegram carries, as
//! exact integers (`004169.415*kWh` is 4,169,415 Wh; no float on the way). A telegram whose CRC
//! fails, that is cut short or too long is dropped and counted, never read; bytes outside
//! telegrams are counted as noise. (Luxembourg's encrypted Smarty frames are not handled here.)

use std::collections::BTreeMap;

/// Longest telegram kept (DSMR 5 with M-Bus devices and long messages stays well under it).
const MAX_TELEGRAM: usize = 16 * 1024;

const CRC: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_ARC);

/// One telegram's objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Telegram {
    /// The identification line without its `/` (manufacturer, model).
    pub identification: String,
    /// Each OBIS reference with its values (the text between parentheses, in order).
    pub objects: BTreeMap<String, Vec<String>>,
    /// Whether a CRC was present and matched (DSMR 4 and 5); DSMR 2.2/3 have none.
    pub crc_checked: bool,
}

/// The energy registers of a telegram, Wh since the meter's installation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct P1Energy {
    /// Delivered to the household (1.8.1 + 1.8.2, tariffs 1 and 2; or 1.8.0).
    pub imported_wh: u64,
    /// Returned to the grid (2.8.1 + 2.8.2, or 2.8.0), when the meter gives it.
    pub exported_wh: Option<u64>,
}

/// A quantity such as `004169.415*kWh` in Wh, exactly.
pub fn parse_wh(value: &str) -> Option<u64> {
    let (number, unit) = value.split_once('*')?;
    let scale: u32 = match unit {
        "kWh" => 3,
        "Wh" => 0,
        _ => return None,
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 12 || !digits_only(whole) || !digits_only(fraction) {
        return None;
    }
    if fraction.len() as u32 > scale {
        return None; // finer than a Wh: not a register this node reads
    }
    let padded = format!("{whole}{fraction:0<width$}", width = scale as usize);
    padded.parse().ok()
}

impl Telegram {
    fn register(&self, obis: &str) -> Option<u64> {
        self.objects.get(obis).and_then(|v| v.first()).and_then(|v| parse_wh(v))
    }

    /// Both tariffs, or the total register: never one tariff alone (a partial sum would be a
    /// wrong reading).
    fn pair(&self, total: &str, one: &str, two: &str) -> Option<u64> {
        match (self.register(one), self.register(two)) {
            (Some(a), Some(b)) => Some(a + b),
            (None, None) => self.register(total),
            _ => None,
        }
    }

    /// The energy registers, if the telegram has them.
    pub fn energy(&self) -> Option<P1Energy> {
        Some(P1Energy {
            imported_wh: self.pair("1-0:1.8.0", "1-0:1.8.1", "1-0:1.8.2")?,
            exported_wh: self.pair("1-0:2.8.0", "1-0:2.8.1", "1-0:2.8.2"),
        })
    }

    /// The meter's equipment identifier (0-0:96.1.1), to notice a meter change.
    pub fn meter_id(&self) -> Option<&str> {
        self.objects.get("0-0:96.1.1").and_then(|v| v.first()).map(String::as_str)
    }
}

/// What the decoder dropped, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct P1Stats {
    /// Telegrams decoded.
    pub telegrams: u64,
    /// Telegrams whose CRC did not match.
    pub bad_crc: u64,
    /// Telegrams of the wrong shape.
    pub malformed: u64,
    /// Telegrams cut short (a new `/`) or too long.
    pub partial: u64,
    /// Bytes outside any telegram.
    pub noise_bytes: u64,
}

/// Where the decoder is in the stream.
#[derive(Debug)]
enum State {
    Idle,
    /// Between `/` and `!`.
    Body(Vec<u8>),
    /// After `!`: the CRC line, up to LF.
    Crc(Vec<u8>, Vec<u8>),
}

/// Decodes a P1 byte stream, fed in pieces of any size.
#[derive(Debug)]
pub struct P1Decoder {
    state: State,
    /// Counters.
    pub stats: P1Stats,
}

impl Default for P1Decoder {
    fn default() -> Self {
        Self { state: State::Idle, stats: P1Stats::default() }
    }
}

impl P1Decoder {
    /// Feeds received bytes; returns the telegrams they completed.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Telegram> {
        let mut out = Vec::new();
        for &raw in bytes {
            // DSMR 2.2/3 run at 7E1: a port read as 8N1 gives the parity bit on top.
            let byte = raw & 0x7f;
            if byte == b'/' {
                if !matches!(self.state, State::Idle) {
                    self.stats.partial += 1;
                }
                self.state = State::Body(vec![byte]);
                continue;
            }
            match &mut self.state {
                State::Idle => self.stats.noise_bytes += 1,
                State::Body(body) => {
                    body.push(byte);
                    if byte == b'!' {
                        let body = std::mem::take(body);
                        self.state = State::Crc(body, Vec::new());
                    } else if body.len() > MAX_TELEGRAM {
                        self.state = State::Idle;
                        self.stats.partial += 1;
                    }
                }
                State::Crc(_, line) if byte != b'\n' => {
                    line.push(byte);
                    if line.len() > 8 {
                        self.state = State::Idle;
                        self.stats.malformed += 1;
                    }
                }
                State::Crc(body, line) => {
                    let (body, line) = (std::mem::take(body), std::mem::take(line));
                    self.state = State::Idle;
                    if let Some(t) = self.finish(&body, &line) {
                        self.stats.telegrams += 1;
                        out.push(t);
                    }
                }
            }
        }
        out
    }

    fn finish(&mut self, body: &[u8], crc_line: &[u8]) -> Option<Telegram> {
        let given = std::str::from_utf8(crc_line).ok().map(str::trim);
        let crc_checked = match given {
            Some("") => false,
            Some(hex) if hex.len() == 4 => match u16::from_str_radix(hex, 16) {
                Ok(given) if given == CRC.checksum(body) => true,
                Ok(_) => {
                    self.stats.bad_crc += 1;
                    return None;
                }
                Err(_) => {
                    self.stats.malformed += 1;
                    return None;
                }
            },
            _ => {
                self.stats.malformed += 1;
                return None;
            }
        };
        match parse(body, crc_checked) {
            Some(t) => Some(t),
            None => {
                self.stats.malformed += 1;
                None
            }
        }
    }
}

/// Whether `line` starts an OBIS object (`a-b:c.d.e(`).
fn starts_object(line: &str) -> bool {
    let Some((reference, _)) = line.split_once('(') else { return false };
    let Some((ab, cde)) = reference.split_once(':') else { return false };
    let numbers = |s: &str, sep: char, n: usize| {
        let parts: Vec<&str> = s.split(sep).collect();
        parts.len() == n
            && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    };
    numbers(ab, '-', 2) && (numbers(cde, '.', 3) || numbers(cde, '.', 4))
}

fn parse(body: &[u8], crc_checked: bool) -> Option<Telegram> {
    let text = std::str::from_utf8(body).ok()?;
    let text = text.strip_prefix('/')?.strip_suffix('!')?;
    let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
    let identification = lines.next()?.to_string();
    if identification.len() < 5 || identification.len() > 96 {
        return None;
    }
    // Objects, a long value possibly continued on the next lines (as the spec's example shows).
    let mut joined: Vec<String> = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        if starts_object(line) {
            joined.push(line.to_string());
        } else {
            joined.last_mut()?.push_str(line);
        }
    }
    let mut objects = BTreeMap::new();
    for line in joined {
        let (reference, rest) = line.split_once('(')?;
        let rest = rest.strip_suffix(')')?;
        let values = rest.split(")(").map(str::to_string).collect();
        objects.insert(reference.to_string(), values);
    }
    Some(Telegram { identification, objects, crc_checked })
}

#[cfg(test)]
#[path = "dsmr_tests.rs"]
pub(crate) mod tests;
