//! Modbus RTU, the client side of "read input registers" (function 0x04), which is all a
//! DIN-rail energy meter needs: the request frame, the answer checked (slave, function, length,
//! CRC-16/MODBUS) or the slave's exception, and the register maps of the Eastron SDM meters
//! (IEEE-754 float32, high word first, kWh and W).
//!
//! A whole client crate (tokio-modbus) would bring an async runtime and a serial stack into a
//! crate whose sources are read synchronously; the part used here is two frame layouts and a CRC
//! (from the `crc` crate). The tests check it against tokio-modbus's own server.

use crc::{Crc, CRC_16_MODBUS};

const CRC16: Crc<u16> = Crc::<u16>::new(&CRC_16_MODBUS);

/// Read input registers.
pub const READ_INPUT_REGISTERS: u8 = 0x04;
/// Read holding registers (some meters keep their totals there).
pub const READ_HOLDING_REGISTERS: u8 = 0x03;
/// The most registers one request may ask for (the Modbus specification's limit).
pub const MAX_REGISTERS: u16 = 125;

/// Why an answer is not the registers asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModbusError {
    /// The slave answered with an exception code.
    #[error("the meter answered with Modbus exception {code:#04x} ({})", exception_name(*code))]
    Exception {
        /// The exception code.
        code: u8,
    },
    /// The CRC does not match: line noise, or two devices talking at once.
    #[error("bad CRC")]
    Crc,
    /// Another slave, another function, or a length that does not fit.
    #[error("malformed answer: {0}")]
    Malformed(&'static str),
}

fn exception_name(code: u8) -> &'static str {
    match code {
        1 => "illegal function",
        2 => "illegal data address: check the model or register map",
        3 => "illegal data value",
        4 => "slave device failure",
        5 => "acknowledge",
        6 => "slave device busy",
        0x0b => "gateway target device failed to respond",
        _ => "unknown",
    }
}

/// The request for `count` registers from `first`, of `slave` (1..=247), with its CRC.
pub fn request(slave: u8, function: u8, first: u16, count: u16) -> Vec<u8> {
    let mut frame = vec![slave, function];
    frame.extend_from_slice(&first.to_be_bytes());
    frame.extend_from_slice(&count.to_be_bytes());
    let crc = CRC16.checksum(&frame);
    frame.extend_from_slice(&crc.to_le_bytes());
    frame
}

/// How long the answer starting with `head` is, once its first three bytes are in: an exception
/// is 5 bytes, registers 5 plus their byte count.
pub fn answer_len(head: &[u8]) -> Option<usize> {
    match head {
        [_, function, _, ..] if function & 0x80 != 0 => Some(5),
        [_, _, count, ..] => Some(5 + usize::from(*count)),
        _ => None,
    }
}

/// The registers in `answer` to the request for `count` registers of `slave` with `function`.
pub fn registers(
    answer: &[u8],
    slave: u8,
    function: u8,
    count: u16,
) -> Result<Vec<u16>, ModbusError> {
    if answer.len() < 5 {
        return Err(ModbusError::Malformed("shorter than any answer"));
    }
    let (body, crc) = answer.split_at(answer.len() - 2);
    if CRC16.checksum(body).to_le_bytes() != crc {
        return Err(ModbusError::Crc);
    }
    if body[0] != slave {
        return Err(ModbusError::Malformed("from another slave"));
    }
    if body[1] == function | 0x80 {
        return Err(ModbusError::Exception { code: body[2] });
    }
    if body[1] != function {
        return Err(ModbusError::Malformed("to another function"));
    }
    let data = &body[3..];
    if usize::from(body[2]) != data.len() || data.len() != 2 * usize::from(count) {
        return Err(ModbusError::Malformed("not the number of registers asked for"));
    }
    Ok(data.chunks_exact(2).map(|w| u16::from_be_bytes([w[0], w[1]])).collect())
}

/// An IEEE-754 float32 from two registers, high word first (Eastron's order).
pub fn float32(words: &[u16]) -> Option<f32> {
    match words {
        [high, low] => Some(f32::from_bits(u32::from(*high) << 16 | u32::from(*low))),
        _ => None,
    }
}

/// Where a meter keeps its values: input registers holding float32, energies in kWh and power
/// in W (signed: negative when returning to the grid).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterMap {
    /// Energy drawn from the grid, kWh.
    pub import: u16,
    /// Energy returned to the grid, kWh.
    pub export: Option<u16>,
    /// Active power, W.
    pub power: Option<u16>,
}

/// The register maps of the Eastron meters (from their Modbus protocol documents).
pub fn model(name: &str) -> Option<RegisterMap> {
    let map = |power| RegisterMap { import: 0x0048, export: Some(0x004a), power: Some(power) };
    match name.to_ascii_lowercase().as_str() {
        // Single phase: "Active power" is register 0x000C.
        "sdm120" | "sdm220" | "sdm230" => Some(map(0x000c)),
        // Three phases: "Total system power" is 0x0034.
        "sdm72" | "sdm630" => Some(map(0x0034)),
        _ => None,
    }
}

/// kWh as a meter reports them → whole Wh, or `None` when the value is no energy total (NaN,
/// infinite, negative, or beyond what a float32 counts to the Wh).
pub fn kwh_to_wh(kwh: f32) -> Option<u64> {
    (kwh.is_finite() && (0.0..1.0e9).contains(&kwh))
        .then(|| (f64::from(kwh) * 1000.0).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_carries_the_crc_of_the_specification_example() {
        // Modbus over serial line, §6.2.2 style: slave 1, read input register 1, one register.
        assert_eq!(request(1, READ_INPUT_REGISTERS, 0x0000, 1), [1, 4, 0, 0, 0, 1, 0x31, 0xca]);
        assert_eq!(
            request(1, READ_HOLDING_REGISTERS, 0x0000, 0x0a),
            [1, 3, 0, 0, 0, 0x0a, 0xc5, 0xcd]
        );
    }

    fn answer(slave: u8, function: u8, data: &[u8]) -> Vec<u8> {
        let mut frame = vec![slave, function, data.len() as u8];
        frame.extend_from_slice(data);
        let crc = CRC16.checksum(&frame);
        frame.extend_from_slice(&crc.to_le_bytes());
        frame
    }

    #[test]
    fn answers_are_checked_before_their_registers_are_read() {
        let kwh = 1234.5f32.to_bits().to_be_bytes();
        let good = answer(1, 4, &kwh);
        assert_eq!(answer_len(&good), Some(good.len()));
        let words = registers(&good, 1, 4, 2).unwrap();
        assert_eq!(float32(&words), Some(1234.5));
        let mut noisy = good.clone();
        noisy[4] ^= 0x10;
        assert_eq!(registers(&noisy, 1, 4, 2), Err(ModbusError::Crc));
        assert!(matches!(registers(&good, 2, 4, 2), Err(ModbusError::Malformed(_))));
        assert!(matches!(registers(&good, 1, 3, 2), Err(ModbusError::Malformed(_))));
        assert!(matches!(registers(&good, 1, 4, 4), Err(ModbusError::Malformed(_))));
        assert!(matches!(registers(&good[..3], 1, 4, 2), Err(ModbusError::Malformed(_))));
        let mut exception = vec![1, 0x84, 2];
        let crc = CRC16.checksum(&exception);
        exception.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(answer_len(&exception), Some(5));
        let refused = registers(&exception, 1, 4, 2).unwrap_err();
        assert_eq!(refused, ModbusError::Exception { code: 2 });
        assert!(refused.to_string().contains("illegal data address"), "{refused}");
    }

    #[test]
    fn only_plausible_totals_become_watt_hours() {
        assert_eq!(kwh_to_wh(1234.567), Some(1_234_567));
        assert_eq!(kwh_to_wh(0.0), Some(0));
        for bad in [f32::NAN, f32::INFINITY, -0.5, 3.0e9] {
            assert_eq!(kwh_to_wh(bad), None, "{bad}");
        }
        assert_eq!(model("SDM630").unwrap().power, Some(0x34));
        assert_eq!(model("sdm120").unwrap().import, 0x48);
        assert!(model("sdm999").is_none());
    }
}
