//! A simulated nRF24L01+: the SPI command set and register file, byte by byte, behind the same
//! embedded-hal traits as a real chip. Tests and `--meter-source sim-radio` drive the real
//! driver with it; payloads put in its RX FIFO come out of the driver as from the air.

use super::registers::*;
use embedded_hal::digital::{ErrorType as PinErrorType, OutputPin};
use embedded_hal::spi::{ErrorType, Operation, SpiDevice};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};

const RESET: [(u8, u8); 12] = [
    (CONFIG, 0x08),
    (EN_AA, 0x3F),
    (EN_RXADDR, 0x03),
    (SETUP_AW, 0x03),
    (SETUP_RETR, 0x03),
    (RF_CH, 0x02),
    (RF_SETUP, 0x0E),
    (STATUS, 0x0E),
    (FIFO_STATUS, 0x11),
    (DYNPD, 0),
    (FEATURE, 0),
    (RX_PW_P0, 0),
];

#[derive(Debug)]
struct Chip {
    registers: [u8; 0x20],
    /// Five-byte registers (RX_ADDR_P0, RX_ADDR_P1, TX_ADDR), LSB first.
    addresses: [[u8; 5]; 3],
    rx_fifo: VecDeque<[u8; 16]>,
    rx_dr: bool,
    ce: bool,
    present: bool,
    /// Every SPI transaction's MOSI bytes, in order.
    log: Vec<Vec<u8>>,
    /// Payloads that arrived with the FIFO full.
    lost: u64,
}

/// The chip; clone the handle to keep one for the test while the driver owns the bus.
#[derive(Debug, Clone)]
pub struct SimChip(Arc<Mutex<Chip>>);

/// The chip's SPI side (with chip select).
#[derive(Debug)]
pub struct SimSpi(SimChip);

/// The chip's CE pin.
#[derive(Debug)]
pub struct SimCe(SimChip);

impl Default for SimChip {
    fn default() -> Self {
        Self::new(true)
    }
}

impl SimChip {
    /// A chip in its reset state; `present: false` is an empty socket (MISO floats high).
    pub fn new(present: bool) -> Self {
        let mut registers = [0u8; 0x20];
        for (r, v) in RESET {
            registers[r as usize] = v;
        }
        let addresses = [[0xE7; 5], [0xC2; 5], [0xE7; 5]];
        Self(Arc::new(Mutex::new(Chip {
            registers,
            addresses,
            rx_fifo: VecDeque::new(),
            rx_dr: false,
            ce: false,
            present,
            log: Vec::new(),
            lost: 0,
        })))
    }

    fn chip(&self) -> MutexGuard<'_, Chip> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The bus and CE pin to give the driver.
    pub fn parts(&self) -> (SimSpi, SimCe) {
        (SimSpi(self.clone()), SimCe(self.clone()))
    }

    /// A payload arrives on pipe 1 (only while listening: powered up, PRIM_RX, CE high).
    /// Returns false when the chip was not listening or its 3-slot FIFO was full.
    pub fn receive(&self, payload: [u8; 16]) -> bool {
        let mut chip = self.chip();
        let config = chip.registers[CONFIG as usize];
        let listening = chip.ce && config & PWR_UP != 0 && config & PRIM_RX != 0;
        if !listening {
            return false;
        }
        if chip.rx_fifo.len() == 3 {
            chip.lost += 1;
            return false;
        }
        chip.rx_fifo.push_back(payload);
        chip.rx_dr = true;
        true
    }

    /// Every transaction's MOSI bytes so far.
    pub fn log(&self) -> Vec<Vec<u8>> {
        self.chip().log.clone()
    }

    /// A register's value (first byte of the address registers).
    pub fn register(&self, register: u8) -> u8 {
        self.chip().read(register)[0]
    }

    /// Payloads lost to a full FIFO.
    pub fn lost(&self) -> u64 {
        self.chip().lost
    }
}

impl Chip {
    fn status(&self) -> u8 {
        let pipe = if self.rx_fifo.is_empty() { RX_P_NO_EMPTY } else { 1 };
        (self.registers[STATUS as usize] & (TX_DS | MAX_RT))
            | if self.rx_dr { RX_DR } else { 0 }
            | (pipe << 1)
    }

    fn fifo_status(&self) -> u8 {
        let rx = match self.rx_fifo.len() {
            0 => 0b01,
            3 => 0b10,
            _ => 0b00,
        };
        0x10 | rx
    }

    fn read(&self, register: u8) -> Vec<u8> {
        match register {
            RX_ADDR_P0 => self.addresses[0].to_vec(),
            RX_ADDR_P1 => self.addresses[1].to_vec(),
            TX_ADDR => self.addresses[2].to_vec(),
            STATUS => vec![self.status()],
            FIFO_STATUS => vec![self.fifo_status()],
            r => vec![self.registers[r as usize & 0x1F]],
        }
    }

    fn write(&mut self, register: u8, data: &[u8]) {
        match register {
            RX_ADDR_P0 | RX_ADDR_P1 | TX_ADDR => {
                let slot = match register {
                    RX_ADDR_P0 => 0,
                    RX_ADDR_P1 => 1,
                    _ => 2,
                };
                for (i, b) in data.iter().take(5).enumerate() {
                    self.addresses[slot][i] = *b;
                }
            }
            STATUS => {
                if let Some(v) = data.first() {
                    if v & RX_DR != 0 {
                        self.rx_dr = false;
                    }
                    self.registers[STATUS as usize] &= !(v & (TX_DS | MAX_RT));
                }
            }
            r => {
                if let Some(v) = data.first() {
                    self.registers[r as usize & 0x1F] = *v;
                }
            }
        }
    }

    /// One CSN-low frame: MOSI in, MISO out.
    fn exchange(&mut self, mosi: &[u8]) -> Vec<u8> {
        self.log.push(mosi.to_vec());
        if !self.present {
            return vec![0xFF; mosi.len()];
        }
        let Some(&command) = mosi.first() else { return vec![] };
        let mut miso = vec![self.status()];
        let data = &mosi[1..];
        match command {
            c if c & 0xE0 == R_REGISTER => {
                let value = self.read(c & 0x1F);
                miso.extend((0..data.len()).map(|i| value.get(i).copied().unwrap_or(0)));
            }
            c if c & 0xE0 == W_REGISTER => {
                self.write(c & 0x1F, data);
                miso.extend(std::iter::repeat_n(0, data.len()));
            }
            R_RX_PAYLOAD => {
                let payload = self.rx_fifo.pop_front().unwrap_or([0; 16]);
                miso.extend((0..data.len()).map(|i| payload.get(i).copied().unwrap_or(0)));
            }
            FLUSH_RX => self.rx_fifo.clear(),
            _ => miso.extend(std::iter::repeat_n(0, data.len())),
        }
        miso
    }
}

impl ErrorType for SimSpi {
    type Error = Infallible;
}

impl SpiDevice for SimSpi {
    fn transaction(&mut self, operations: &mut [Operation<'_, u8>]) -> Result<(), Infallible> {
        // Collect the whole CSN-low frame, run it, then hand MISO back to the read buffers.
        let mut mosi = Vec::new();
        for op in operations.iter() {
            match op {
                Operation::Write(w) => mosi.extend_from_slice(w),
                Operation::Read(r) => mosi.extend(std::iter::repeat_n(NOP, r.len())),
                Operation::Transfer(r, w) => {
                    mosi.extend_from_slice(w);
                    mosi.extend(std::iter::repeat_n(NOP, r.len().saturating_sub(w.len())));
                }
                Operation::TransferInPlace(b) => mosi.extend_from_slice(b),
                Operation::DelayNs(_) => {}
            }
        }
        let miso = self.0.chip().exchange(&mosi);
        let mut at = 0;
        for op in operations.iter_mut() {
            match op {
                Operation::Write(w) => at += w.len(),
                Operation::Read(r) => {
                    r.copy_from_slice(&miso[at..at + r.len()]);
                    at += r.len();
                }
                Operation::Transfer(r, w) => {
                    let n = r.len().max(w.len());
                    let len = r.len();
                    r.copy_from_slice(&miso[at..at + len]);
                    at += n;
                }
                Operation::TransferInPlace(b) => {
                    let len = b.len();
                    b.copy_from_slice(&miso[at..at + len]);
                    at += len;
                }
                Operation::DelayNs(_) => {}
            }
        }
        Ok(())
    }
}

impl PinErrorType for SimCe {
    type Error = Infallible;
}

impl OutputPin for SimCe {
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.0.chip().ce = false;
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        self.0.chip().ce = true;
        Ok(())
    }
}
