//! Linky (and older Enedis electronic meters) customer teleinformation, TIC (Enedis-NOI-CPT_54E):
//! the byte stream of the meter's I1/I2 port, decoded into frames of checked data sets, and the
//! energy indexes a frame carries. Both modes: *historique* (1200 Bd, `LF label SP data SP
//! checksum CR`, the checksum over label through data) and *standard* (9600 Bd, TAB separators,
//! an optional timestamp field, the checksum also over the TAB before it). Frames run from STX
//! (0x02) to ETX (0x03); EOT (0x04) interrupts one. A data set with a wrong checksum or shape is
//! dropped and counted, never read; a frame cut short is counted and dropped; bytes outside frames
//! are counted as noise; every buffer is bounded.

use std::collections::BTreeMap;

const STX: u8 = 0x02;
const ETX: u8 = 0x03;
const EOT: u8 = 0x04;
const LF: u8 = 0x0a;
const CR: u8 = 0x0d;
const HT: u8 = 0x09;
const SP: u8 = 0x20;
/// Longest frame kept (a standard frame is ~1.2 KB); longer is noise.
const MAX_FRAME: usize = 4096;
/// Longest label and data field (the spec's are 8 and 98 characters).
const MAX_LABEL: usize = 8;
const MAX_DATA: usize = 100;

/// The TIC mode of a data set (the meter's setting; standard is needed for injection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TicMode {
    /// 1200 Bd, space-separated.
    Historique,
    /// 9600 Bd, tab-separated, with timestamps.
    Standard,
}

/// One checked data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicGroup {
    /// The label (`BASE`, `EAST`, …).
    pub label: String,
    /// The timestamp field (standard mode, e.g. `E200426181830`), if any.
    pub timestamp: Option<String>,
    /// The data.
    pub value: String,
}

/// One frame's data sets, by label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicFrame {
    /// The mode its data sets came in.
    pub mode: TicMode,
    /// The checked data sets, by label.
    pub groups: BTreeMap<String, TicGroup>,
}

/// The energy indexes of a frame, Wh since the meter's installation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicEnergy {
    /// Energy drawn from the grid: historique `BASE`, or the sum of the tariff indexes (HC/HP,
    /// EJP, Tempo); standard `EAST`.
    pub imported_wh: u64,
    /// Energy injected (standard `EAIT`, producers only).
    pub exported_wh: Option<u64>,
}

/// Historique indexes (Wh) of each tariff option (`OPTARIF`): their sum is the energy drawn.
fn historique_indexes(tariff: &str) -> Option<&'static [&'static str]> {
    Some(match tariff {
        t if t.starts_with("BASE") => &["BASE"],
        t if t.starts_with("HC") => &["HCHC", "HCHP"],
        t if t.starts_with("EJP") => &["EJPHN", "EJPHPM"],
        t if t.starts_with("BBR") => {
            &["BBRHCJB", "BBRHPJB", "BBRHCJW", "BBRHPJW", "BBRHCJR", "BBRHPJR"]
        }
        _ => return None,
    })
}

impl TicFrame {
    /// The energy indexes, if the frame has all of them (every frame of a working meter does;
    /// one whose index was corrupted has none: a partial sum would be a wrong reading).
    pub fn energy(&self) -> Option<TicEnergy> {
        let number = |label: &str| self.groups.get(label).and_then(|g| parse_index(&g.value));
        match self.mode {
            TicMode::Standard => {
                Some(TicEnergy { imported_wh: number("EAST")?, exported_wh: number("EAIT") })
            }
            TicMode::Historique => {
                let labels = historique_indexes(&self.groups.get("OPTARIF")?.value)?;
                let indexes: Option<Vec<u64>> = labels.iter().map(|l| number(l)).collect();
                Some(TicEnergy { imported_wh: indexes?.iter().sum(), exported_wh: None })
            }
        }
    }

    /// Apparent power, VA (historique `PAPP`, standard `SINSTS`), if given.
    pub fn power_va(&self) -> Option<u64> {
        ["SINSTS", "PAPP"]
            .iter()
            .find_map(|l| self.groups.get(*l).and_then(|g| parse_index(&g.value)))
    }

    /// The meter's identity (historique `ADCO`, standard `ADSC`), to notice a meter change.
    pub fn meter_id(&self) -> Option<&str> {
        ["ADSC", "ADCO"].iter().find_map(|l| self.groups.get(*l).map(|g| g.value.as_str()))
    }
}

/// An index: digits only (leading zeros), at most 10 of them.
fn parse_index(value: &str) -> Option<u64> {
    let digits = value.trim();
    if digits.is_empty() || digits.len() > 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// What the decoder dropped, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TicStats {
    /// Frames decoded.
    pub frames: u64,
    /// Data sets whose checksum is wrong.
    pub bad_checksums: u64,
    /// Data sets of the wrong shape (or of the other mode when one is configured).
    pub malformed: u64,
    /// Frames cut short (EOT, a new STX, or too long).
    pub partial_frames: u64,
    /// Bytes outside any frame.
    pub noise_bytes: u64,
    /// Speed changes in auto mode (nothing decoded at the other speed).
    pub baud_switches: u64,
}

/// Decodes a TIC byte stream, fed in pieces of any size.
#[derive(Debug)]
pub struct TicDecoder {
    /// The configured mode, or `None` to take each frame as it comes (auto).
    mode: Option<TicMode>,
    frame: Option<Vec<u8>>,
    /// Counters.
    pub stats: TicStats,
}

/// The checksum of a data set's bytes: `(sum & 0x3F) + 0x20`.
pub fn checksum(bytes: &[u8]) -> u8 {
    let sum: u32 = bytes.iter().map(|b| u32::from(*b)).sum();
    (sum & 0x3f) as u8 + 0x20
}

impl TicDecoder {
    /// A decoder for `mode` (`None`: auto-detect per data set).
    pub fn new(mode: Option<TicMode>) -> Self {
        Self { mode, frame: None, stats: TicStats::default() }
    }

    /// Feeds received bytes; returns the frames they completed.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<TicFrame> {
        let mut out = Vec::new();
        for &raw in bytes {
            // 7 data bits: a port read as 8N1 gives the parity bit on top.
            let byte = raw & 0x7f;
            match (byte, self.frame.as_mut()) {
                (STX, current) => {
                    if current.is_some() {
                        self.stats.partial_frames += 1;
                    }
                    self.frame = Some(Vec::with_capacity(512));
                }
                (ETX, Some(_)) => {
                    let body = self.frame.take().unwrap_or_default();
                    if let Some(frame) = self.decode_frame(&body) {
                        self.stats.frames += 1;
                        out.push(frame);
                    }
                }
                (EOT, Some(_)) => {
                    self.frame = None;
                    self.stats.partial_frames += 1;
                }
                (_, Some(body)) => {
                    body.push(byte);
                    if body.len() > MAX_FRAME {
                        self.frame = None;
                        self.stats.partial_frames += 1;
                    }
                }
                (_, None) => self.stats.noise_bytes += 1,
            }
        }
        out
    }

    fn decode_frame(&mut self, body: &[u8]) -> Option<TicFrame> {
        let mut groups = BTreeMap::new();
        let mut mode = self.mode;
        let mut rest = body;
        while let Some(start) = rest.iter().position(|b| *b == LF) {
            let after = &rest[start + 1..];
            let Some(end) = after.iter().position(|b| *b == CR) else {
                self.stats.malformed += 1;
                break;
            };
            match decode_group(&after[..end]) {
                Ok((group_mode, group)) if mode.is_none_or(|m| m == group_mode) => {
                    mode = Some(group_mode);
                    groups.insert(group.label.clone(), group);
                }
                Ok(_) | Err(GroupError::Shape) => self.stats.malformed += 1,
                Err(GroupError::Checksum) => self.stats.bad_checksums += 1,
            }
            rest = &after[end + 1..];
        }
        Some(TicFrame { mode: mode?, groups }).filter(|f| !f.groups.is_empty())
    }
}

enum GroupError {
    Shape,
    Checksum,
}

/// One data set between LF and CR.
fn decode_group(line: &[u8]) -> Result<(TicMode, TicGroup), GroupError> {
    if line.len() < 4 || !line.iter().all(|b| (0x20..0x7f).contains(b) || *b == HT) {
        return Err(GroupError::Shape);
    }
    let (sum, sep) = (line[line.len() - 1], line[line.len() - 2]);
    let (mode, covered) = match sep {
        HT => (TicMode::Standard, &line[..line.len() - 1]),
        SP => (TicMode::Historique, &line[..line.len() - 2]),
        _ => return Err(GroupError::Shape),
    };
    let text = std::str::from_utf8(&line[..line.len() - 2]).map_err(|_| GroupError::Shape)?;
    let fields: Vec<&str> = match mode {
        TicMode::Standard => text.split('\t').collect(),
        // Historique data may itself hold spaces only in MOTDETAT-like fields: split once.
        TicMode::Historique => text.splitn(2, ' ').collect(),
    };
    let (label, timestamp, value) = match fields.as_slice() {
        [label, value] => (*label, None, *value),
        [label, timestamp, value] if mode == TicMode::Standard => {
            (*label, Some(timestamp.to_string()), *value)
        }
        _ => return Err(GroupError::Shape),
    };
    if label.is_empty() || label.len() > MAX_LABEL || value.len() > MAX_DATA {
        return Err(GroupError::Shape);
    }
    if checksum(covered) != sum {
        return Err(GroupError::Checksum);
    }
    Ok((mode, TicGroup { label: label.to_string(), timestamp, value: value.to_string() }))
}

#[cfg(test)]
#[path = "tic_tests.rs"]
pub(crate) mod tests;
