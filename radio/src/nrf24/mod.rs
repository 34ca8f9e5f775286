//! nRF24L01+ receiver driver, generic over embedded-hal 1.0 (`SpiDevice` for the bus with its
//! chip select, `OutputPin` for CE). Brings the chip up exactly as spec §2.3, checks by reading
//! back that a chip is there and wired right, and polls the RX FIFO for 16-byte payloads.

pub mod registers;
pub mod sim_chip;

use embedded_hal::delay::DelayNs;
use embedded_hal::digital::OutputPin;
use embedded_hal::spi::SpiDevice;
use registers::*;

/// The CitizenWatt sensors' address.
pub const SENSOR_ADDRESS: [u8; 5] = [0xE0, 0x56, 0xD4, 0x46, 0xD0];
/// Static payload width.
pub const PAYLOAD_LEN: usize = 16;

/// Air data rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum DataRate {
    /// 250 kbps: sensors since December 2014.
    #[default]
    #[serde(rename = "250k")]
    Kbps250,
    /// 1 Mbps: older sensor firmware.
    #[serde(rename = "1m")]
    Mbps1,
}

/// Radio settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RadioConfig {
    /// RF channel (2400 + n MHz).
    pub channel: u8,
    /// Data rate.
    pub data_rate: DataRate,
    /// The sensor's 5-byte address, most significant byte first (as written 0xE056D446D0).
    pub address: [u8; 5],
}

impl Default for RadioConfig {
    fn default() -> Self {
        Self { channel: 76, data_rate: DataRate::Kbps250, address: SENSOR_ADDRESS }
    }
}

impl RadioConfig {
    fn rf_setup(&self) -> u8 {
        match self.data_rate {
            DataRate::Kbps250 => RF_DR_LOW | RF_PWR_LOW_LNA,
            DataRate::Mbps1 => RF_PWR_LOW_LNA,
        }
    }
}

/// Why the radio failed.
#[derive(Debug, thiserror::Error)]
pub enum RadioError<S: std::fmt::Debug, P: std::fmt::Debug> {
    /// The SPI bus failed.
    #[error("SPI: {0:?}")]
    Spi(S),
    /// The CE pin failed.
    #[error("CE pin: {0:?}")]
    Pin(P),
    /// Every register reads 0x00 or 0xFF: nothing answers on the bus.
    #[error(
        "no nRF24L01+ answers on SPI (registers read {0:#04x}): check power (3.3 V), MISO and CSN"
    )]
    NoChip(u8),
    /// The chip answers but does not hold what was written.
    #[error("nRF24L01+ register {register:#04x} reads {read:#04x}, expected {expected:#04x}: check MOSI, SCK and the chip's supply")]
    Mismatch {
        /// Which register.
        register: u8,
        /// What it holds.
        read: u8,
        /// What was written.
        expected: u8,
    },
}

/// Counters of what the receive loop skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RadioStats {
    /// Payloads read.
    pub received: u64,
    /// Times the RX FIFO was full (frames may have been lost) or held garbage and was flushed.
    pub overflows: u64,
}

/// An nRF24L01+ set up as a CitizenWatt receiver.
pub struct Nrf24<SPI, CE> {
    spi: SPI,
    ce: CE,
    config: RadioConfig,
    stats: RadioStats,
}

type Result<T, SPI, CE> = std::result::Result<
    T,
    RadioError<
        <SPI as embedded_hal::spi::ErrorType>::Error,
        <CE as embedded_hal::digital::ErrorType>::Error,
    >,
>;

impl<SPI: SpiDevice, CE: OutputPin> Nrf24<SPI, CE> {
    /// Brings the chip up as a listening receiver (spec §2.3) and checks it by reading back.
    pub fn start(
        spi: SPI,
        ce: CE,
        config: RadioConfig,
        delay: &mut impl DelayNs,
    ) -> Result<Self, SPI, CE> {
        let mut radio = Self { spi, ce, config, stats: RadioStats::default() };
        radio.ce.set_low().map_err(RadioError::Pin)?;
        delay.delay_ms(5);
        radio.write(CONFIG, &[EN_CRC | CRCO])?;
        radio.write(EN_AA, &[0x3F])?;
        radio.write(EN_RXADDR, &[0x03])?;
        radio.write(SETUP_AW, &[0x03])?;
        radio.write(SETUP_RETR, &[0xFF])?;
        radio.write(RF_CH, &[radio.config.channel])?;
        radio.write(RF_SETUP, &[radio.config.rf_setup()])?;
        radio.write(DYNPD, &[0])?;
        radio.write(FEATURE, &[0])?;
        let mut lsb_first = radio.config.address;
        lsb_first.reverse();
        radio.write(RX_ADDR_P1, &lsb_first)?;
        for pipe in RX_PW_P0..=RX_PW_P0 + 5 {
            radio.write(pipe, &[PAYLOAD_LEN as u8])?;
        }
        radio.write(STATUS, &[RX_DR | TX_DS | MAX_RT])?;
        radio.command(FLUSH_RX)?;
        radio.command(FLUSH_TX)?;
        radio.write(CONFIG, &[EN_CRC | CRCO | PWR_UP])?;
        delay.delay_ms(5);
        radio.write(CONFIG, &[EN_CRC | CRCO | PWR_UP | PRIM_RX])?;
        radio.write(STATUS, &[RX_DR | TX_DS | MAX_RT])?;
        radio.ce.set_high().map_err(RadioError::Pin)?;
        delay.delay_us(130);
        radio.self_test()?;
        Ok(radio)
    }

    /// Reads back what bring-up wrote: tells "no chip" from "wrong wiring".
    pub fn self_test(&mut self) -> Result<(), SPI, CE> {
        let expected = [
            (CONFIG, EN_CRC | CRCO | PWR_UP | PRIM_RX),
            (EN_AA, 0x3F),
            (RF_CH, self.config.channel),
            (RF_SETUP, self.config.rf_setup()),
            (RX_PW_P1, PAYLOAD_LEN as u8),
        ];
        let mut read = Vec::new();
        for (register, value) in expected {
            read.push((register, self.read(register)?, value));
        }
        if read.iter().all(|(_, r, _)| *r == 0x00) || read.iter().all(|(_, r, _)| *r == 0xFF) {
            return Err(RadioError::NoChip(read[0].1));
        }
        if let Some((register, read, expected)) = read.into_iter().find(|(_, r, e)| r != e) {
            return Err(RadioError::Mismatch { register, read, expected });
        }
        let mut address = [0u8; 5];
        self.read_into(RX_ADDR_P1, &mut address)?;
        address.reverse();
        if address != self.config.address {
            return Err(RadioError::Mismatch {
                register: RX_ADDR_P1,
                read: address[0],
                expected: self.config.address[0],
            });
        }
        Ok(())
    }

    /// Reads every payload waiting in the RX FIFO (up to its 3 slots), keeping the FIFO clean.
    pub fn receive(&mut self) -> Result<Vec<[u8; PAYLOAD_LEN]>, SPI, CE> {
        let mut out = Vec::new();
        let fifo = self.read(FIFO_STATUS)?;
        if fifo & RX_FULL != 0 {
            self.stats.overflows += 1;
        }
        for _ in 0..3 {
            let status = self.command(NOP)?;
            let pipe = (status >> 1) & 0b111;
            if pipe == RX_P_NO_EMPTY {
                break;
            }
            if pipe > 5 {
                // A pipe number that cannot be: flush what is there.
                self.stats.overflows += 1;
                self.command(FLUSH_RX)?;
                break;
            }
            let mut frame = [0u8; PAYLOAD_LEN + 1];
            frame[0] = R_RX_PAYLOAD;
            frame[1..].fill(NOP);
            self.spi.transfer_in_place(&mut frame).map_err(RadioError::Spi)?;
            self.write(STATUS, &[RX_DR])?;
            let mut payload = [0u8; PAYLOAD_LEN];
            payload.copy_from_slice(&frame[1..]);
            self.stats.received += 1;
            out.push(payload);
        }
        Ok(out)
    }

    /// Counters of the receive loop.
    pub fn stats(&self) -> RadioStats {
        self.stats
    }

    /// Gives the bus and pin back.
    pub fn release(self) -> (SPI, CE) {
        (self.spi, self.ce)
    }

    fn command(&mut self, command: u8) -> Result<u8, SPI, CE> {
        let mut buf = [command];
        self.spi.transfer_in_place(&mut buf).map_err(RadioError::Spi)?;
        Ok(buf[0])
    }

    fn write(&mut self, register: u8, value: &[u8]) -> Result<(), SPI, CE> {
        let mut buf = Vec::with_capacity(value.len() + 1);
        buf.push(W_REGISTER | register);
        buf.extend_from_slice(value);
        self.spi.write(&buf).map_err(RadioError::Spi)
    }

    fn read(&mut self, register: u8) -> Result<u8, SPI, CE> {
        let mut value = [0u8; 1];
        self.read_into(register, &mut value)?;
        Ok(value[0])
    }

    fn read_into(&mut self, register: u8, value: &mut [u8]) -> Result<(), SPI, CE> {
        let mut buf = vec![NOP; value.len() + 1];
        buf[0] = R_REGISTER | register;
        self.spi.transfer_in_place(&mut buf).map_err(RadioError::Spi)?;
        value.copy_from_slice(&buf[1..]);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
