//! Luxembourg's Smarty meters encrypt their P1 telegrams (Smarty P1 specification, "channel
//! security"): each telegram travels in a DLMS General Global Cipher frame, AES-128-GCM with the
//! meter's own key (the supplier gives it to the household) and a 12-byte tag:
//!
//! `DB 08 <system title: 8> 82 <length: 2> 30 <frame counter: 4> <ciphertext> <tag: 12>`
//!
//! where `length` counts from the security byte 0x30 to the end of the tag, the nonce is the
//! system title then the frame counter, and the authenticated data is 0x30 then the fixed
//! authentication key `00112233445566778899AABBCCDDEEFF`. [`SmartyDecryptor`] finds frames in
//! the byte stream (fed in pieces of any size), checks the tag and gives the plaintext telegram
//! to the ordinary P1 decoder. A frame whose tag does not match (another key, corruption) is
//! counted and dropped, never read; bytes outside frames are skipped and counted.

use aes::cipher::consts::U12;
use aes_gcm::aead::AeadInPlace;
use aes_gcm::{AesGcm, KeyInit};

/// The authentication key every Smarty meter uses.
const AUTHENTICATION_KEY: [u8; 16] = [
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
];
/// Security control byte: authenticated and encrypted, suite 0.
const SECURITY_CONTROL: u8 = 0x30;
/// Bytes before the ciphertext.
const HEADER: usize = 18;
/// The GCM tag's length.
const TAG: usize = 12;
/// The largest frame taken (a telegram is well under 2 KiB; the length field allows 64 KiB).
pub const MAX_FRAME: usize = 8 * 1024;

type Aes128Gcm12 = AesGcm<aes::Aes128, U12, U12>;

/// What the decryptor dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SmartyStats {
    /// Frames decrypted and authenticated.
    pub frames: u64,
    /// Frames whose tag did not match: the wrong key, or corruption.
    pub bad_tags: u64,
    /// Frames with an impossible header or length.
    pub malformed: u64,
    /// Bytes outside any frame.
    pub noise_bytes: u64,
}

/// Decrypts Smarty frames from a byte stream.
pub struct SmartyDecryptor {
    cipher: Aes128Gcm12,
    buffer: Vec<u8>,
    /// Counters.
    pub stats: SmartyStats,
}

impl std::fmt::Debug for SmartyDecryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmartyDecryptor").field("stats", &self.stats).finish_non_exhaustive()
    }
}

impl SmartyDecryptor {
    /// A decryptor with the meter's key.
    pub fn new(key: &[u8; 16]) -> Self {
        Self {
            cipher: Aes128Gcm12::new(key.into()),
            buffer: Vec::new(),
            stats: SmartyStats::default(),
        }
    }

    /// Adds bytes as they arrived; returns each telegram decrypted from a complete frame.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        self.buffer.extend_from_slice(bytes);
        let mut out = Vec::new();
        loop {
            // Resynchronise on the frame's first two bytes.
            let start = self.buffer.windows(2).position(|w| w == [0xdb, 0x08]);
            let skip = start.unwrap_or(self.buffer.len().saturating_sub(1));
            self.stats.noise_bytes += skip as u64;
            self.buffer.drain(..skip);
            if self.buffer.len() < HEADER {
                return out;
            }
            let length = usize::from(u16::from_be_bytes([self.buffer[11], self.buffer[12]]));
            let plausible = self.buffer[10] == 0x82
                && self.buffer[13] == SECURITY_CONTROL
                && (5 + TAG..=MAX_FRAME).contains(&length);
            if !plausible {
                self.stats.malformed += 1;
                self.buffer.drain(..2);
                continue;
            }
            let total = 13 + length;
            if self.buffer.len() < total {
                return out;
            }
            let frame: Vec<u8> = self.buffer.drain(..total).collect();
            match self.decrypt(&frame) {
                Some(telegram) => {
                    self.stats.frames += 1;
                    out.push(telegram);
                }
                None => {
                    self.stats.bad_tags += 1;
                    tracing::warn!(target: "daisee::meter", "Smarty frame dropped: its tag does not match (the wrong key, or corrupted)");
                }
            }
        }
    }

    fn decrypt(&self, frame: &[u8]) -> Option<Vec<u8>> {
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&frame[2..10]);
        nonce[8..].copy_from_slice(&frame[14..18]);
        let mut aad = vec![SECURITY_CONTROL];
        aad.extend_from_slice(&AUTHENTICATION_KEY);
        let (ciphertext, tag) = frame[HEADER..].split_at(frame.len() - HEADER - TAG);
        let mut plaintext = ciphertext.to_vec();
        self.cipher
            .decrypt_in_place_detached((&nonce).into(), &aad, &mut plaintext, tag.into())
            .ok()?;
        Some(plaintext)
    }
}

/// A key as the supplier gives it: 32 hex digits.
pub fn parse_key(text: &str) -> Option<[u8; 16]> {
    let text = text.trim();
    if text.len() != 32 {
        return None;
    }
    let mut key = [0u8; 16];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(key)
}

#[cfg(test)]
#[path = "smarty_tests.rs"]
pub(crate) mod tests;
