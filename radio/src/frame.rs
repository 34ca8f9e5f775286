//! CitizenWatt sensor frames (spec §3): one AES-128-ECB block with, little-endian, power (W),
//! voltage (V), battery (mV), the sensor's `millis()` timer and six zero bytes. The zero bytes
//! are the only integrity check the protocol has; plausibility limits catch the rest.

use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use aes::Aes128;
use std::fmt;
use std::str::FromStr;

/// Bytes in a frame on air.
pub const FRAME_LEN: usize = 16;
/// The sensors' factory key, `0-1-2-…-15`.
pub const DEFAULT_KEY: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
/// Highest plausible power: 100 A on 230 V.
pub const MAX_POWER_W: u16 = 23_000;
/// Plausible battery voltages (mV), when the sensor reports one.
pub const BATTERY_MV: std::ops::RangeInclusive<u16> = 1800..=5500;

/// A sensor's AES-128 key.
#[derive(Clone, PartialEq, Eq)]
pub struct SensorKey([u8; 16]);

impl fmt::Debug for SensorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SensorKey(…)")
    }
}

impl Default for SensorKey {
    fn default() -> Self {
        Self(DEFAULT_KEY)
    }
}

impl SensorKey {
    /// A key from its 16 bytes.
    pub fn new(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }
}

/// Why a key string is not a key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a sensor key is 16 numbers 0-255 joined by '-' (as the CitizenWatt base shows it) or 32 hex digits: {0}")]
pub struct BadKey(String);

impl FromStr for SensorKey {
    type Err = BadKey;

    /// Accepts the base's `0-1-2-…-15` form and 32 hex digits (optionally `0x`-prefixed).
    fn from_str(s: &str) -> Result<Self, BadKey> {
        let s = s.trim();
        let mut key = [0u8; 16];
        if s.contains('-') {
            let parts: Vec<&str> = s.split('-').collect();
            if parts.len() != 16 {
                return Err(BadKey(format!("{} numbers instead of 16", parts.len())));
            }
            for (byte, part) in key.iter_mut().zip(parts) {
                *byte =
                    part.trim().parse().map_err(|_| BadKey(format!("{part:?} is not 0-255")))?;
            }
            return Ok(Self(key));
        }
        let hex = s.strip_prefix("0x").unwrap_or(s);
        if hex.len() != 32 || !hex.is_ascii() {
            return Err(BadKey(format!("{} characters instead of 32 hex digits", hex.len())));
        }
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
                .map_err(|_| BadKey(format!("{hex:?} is not hex")))?;
        }
        Ok(Self(key))
    }
}

/// What a sensor measured, as decoded from one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measurement {
    /// Apparent power, W.
    pub power_w: u16,
    /// Voltage the sensor assumes (always 240 on stock sensors).
    pub voltage_v: u16,
    /// Battery, mV.
    pub battery_mv: u16,
    /// The sensor's `millis()` when it measured (awake time; resets on reboot, wraps at 2³²).
    pub timer_ms: u32,
}

/// Every way a frame can be bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Not 16 bytes.
    #[error("a frame is 16 bytes, got {0}")]
    Length(usize),
    /// The six padding bytes are not zero: wrong key, corrupted or misaligned frame.
    #[error("padding is not zero after decryption (wrong key, corrupted or misaligned frame)")]
    Padding,
    /// Power over [`MAX_POWER_W`].
    #[error("implausible power {0} W")]
    Power(u16),
    /// Voltage neither 0 nor 100–260 V.
    #[error("implausible voltage {0} V")]
    Voltage(u16),
    /// Battery outside [`BATTERY_MV`].
    #[error("implausible battery {0} mV")]
    Battery(u16),
}

impl Measurement {
    /// Decrypts and checks one frame.
    pub fn decode(frame: &[u8], key: &SensorKey) -> Result<Self, FrameError> {
        let plain = decrypt(frame, key)?;
        if plain[10..].iter().any(|b| *b != 0) {
            return Err(FrameError::Padding);
        }
        let u16_at = |i: usize| u16::from_le_bytes([plain[i], plain[i + 1]]);
        let m = Self {
            power_w: u16_at(0),
            voltage_v: u16_at(2),
            battery_mv: u16_at(4),
            timer_ms: u32::from_le_bytes([plain[6], plain[7], plain[8], plain[9]]),
        };
        m.check()?;
        Ok(m)
    }

    /// The plausibility limits of spec §3.2.
    pub fn check(&self) -> Result<(), FrameError> {
        if self.power_w > MAX_POWER_W {
            return Err(FrameError::Power(self.power_w));
        }
        if self.voltage_v != 0 && !(100..=260).contains(&self.voltage_v) {
            return Err(FrameError::Voltage(self.voltage_v));
        }
        if !BATTERY_MV.contains(&self.battery_mv) {
            return Err(FrameError::Battery(self.battery_mv));
        }
        Ok(())
    }

    /// The frame a sensor would send (for simulators and tests).
    pub fn encode(&self, key: &SensorKey) -> [u8; FRAME_LEN] {
        let mut block = [0u8; FRAME_LEN];
        block[0..2].copy_from_slice(&self.power_w.to_le_bytes());
        block[2..4].copy_from_slice(&self.voltage_v.to_le_bytes());
        block[4..6].copy_from_slice(&self.battery_mv.to_le_bytes());
        block[6..10].copy_from_slice(&self.timer_ms.to_le_bytes());
        let mut b = aes::Block::from(block);
        cipher(key).encrypt_block(&mut b);
        b.into()
    }
}

/// Decrypts one 16-byte block without checking it.
pub fn decrypt(frame: &[u8], key: &SensorKey) -> Result<[u8; FRAME_LEN], FrameError> {
    let block: [u8; FRAME_LEN] = frame.try_into().map_err(|_| FrameError::Length(frame.len()))?;
    let mut b = aes::Block::from(block);
    cipher(key).decrypt_block(&mut b);
    Ok(b.into())
}

fn cipher(key: &SensorKey) -> Aes128 {
    Aes128::new(&key.0.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn fips_197_anchor() {
        let plain = decrypt(&bytes("69c4e0d86a7b0430d8cdb78070b4c55a"), &SensorKey::default());
        assert_eq!(plain.unwrap().to_vec(), bytes("00112233445566778899aabbccddeeff"));
    }

    #[test]
    fn spec_3_3_vectors_decode_and_encode() {
        let vectors = [
            (1234, 240, 3300, 123_456, "f0ad55b311568f388a9a507599e923be"),
            (0, 240, 3312, 0, "c06bee47a1785bb9df1a0768652db735"),
            (460, 240, 3285, 8617, "fccdc821803a23102210f95f90ef9811"),
        ];
        let key = SensorKey::default();
        for (power_w, voltage_v, battery_mv, timer_ms, cipher) in vectors {
            let m = Measurement { power_w, voltage_v, battery_mv, timer_ms };
            assert_eq!(Measurement::decode(&bytes(cipher), &key), Ok(m));
            assert_eq!(m.encode(&key).to_vec(), bytes(cipher));
        }
    }

    #[test]
    fn the_65535_vector_decodes_but_is_implausible() {
        let frame = bytes("dfe7615c2d64cb2089cacf83ed99755c");
        let plain = decrypt(&frame, &SensorKey::default()).unwrap();
        assert_eq!(plain.to_vec(), bytes("fffff000b80bffffffff000000000000"));
        assert_eq!(
            Measurement::decode(&frame, &SensorKey::default()),
            Err(FrameError::Power(65535))
        );
    }

    #[test]
    fn a_wrong_key_or_a_flipped_bit_fails_the_padding_check() {
        let frame = bytes("f0ad55b311568f388a9a507599e923be");
        assert_eq!(Measurement::decode(&frame, &SensorKey::new([0; 16])), Err(FrameError::Padding));
        let mut corrupt = frame.clone();
        corrupt[7] ^= 0x10;
        assert_eq!(Measurement::decode(&corrupt, &SensorKey::default()), Err(FrameError::Padding));
        assert_eq!(
            Measurement::decode(&frame[..15], &SensorKey::default()),
            Err(FrameError::Length(15))
        );
    }

    #[test]
    fn keys_parse_in_both_forms() {
        let dashed: SensorKey = "0-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15".parse().unwrap();
        let hexed: SensorKey = "000102030405060708090a0b0c0d0e0f".parse().unwrap();
        assert_eq!(dashed, SensorKey::default());
        assert_eq!(hexed, SensorKey::default());
        assert!("0-1-2".parse::<SensorKey>().is_err());
        assert!("0-1-2-3-4-5-6-7-8-9-10-11-12-13-14-256".parse::<SensorKey>().is_err());
        assert!("zz0102030405060708090a0b0c0d0e0f".parse::<SensorKey>().is_err());
    }
}
