//! nRF24L01+ commands and registers (datasheet §8, spec §2.2) and the receiver's configuration
//! values (spec §2.3).

/// R_REGISTER: `0x00 | reg`.
pub const R_REGISTER: u8 = 0x00;
/// W_REGISTER: `0x20 | reg`.
pub const W_REGISTER: u8 = 0x20;
/// Read one RX payload.
pub const R_RX_PAYLOAD: u8 = 0x61;
/// Empty the TX FIFO.
pub const FLUSH_TX: u8 = 0xE1;
/// Empty the RX FIFO.
pub const FLUSH_RX: u8 = 0xE2;
/// No operation (returns STATUS).
pub const NOP: u8 = 0xFF;

/// CONFIG register.
pub const CONFIG: u8 = 0x00;
/// EN_AA register.
pub const EN_AA: u8 = 0x01;
/// EN_RXADDR register.
pub const EN_RXADDR: u8 = 0x02;
/// SETUP_AW register.
pub const SETUP_AW: u8 = 0x03;
/// SETUP_RETR register.
pub const SETUP_RETR: u8 = 0x04;
/// RF_CH register.
pub const RF_CH: u8 = 0x05;
/// RF_SETUP register.
pub const RF_SETUP: u8 = 0x06;
/// STATUS register.
pub const STATUS: u8 = 0x07;
/// RX_ADDR_P0 register.
pub const RX_ADDR_P0: u8 = 0x0A;
/// RX_ADDR_P1 register.
pub const RX_ADDR_P1: u8 = 0x0B;
/// TX_ADDR register.
pub const TX_ADDR: u8 = 0x10;
/// RX_PW_P0 register.
pub const RX_PW_P0: u8 = 0x11;
/// RX_PW_P1 register.
pub const RX_PW_P1: u8 = 0x12;
/// FIFO_STATUS register.
pub const FIFO_STATUS: u8 = 0x17;
/// DYNPD register.
pub const DYNPD: u8 = 0x1C;
/// FEATURE register.
pub const FEATURE: u8 = 0x1D;

/// CONFIG bits.
pub const EN_CRC: u8 = 1 << 3;
/// CONFIG: 16-bit CRC.
pub const CRCO: u8 = 1 << 2;
/// CONFIG: powered up.
pub const PWR_UP: u8 = 1 << 1;
/// CONFIG: receiver.
pub const PRIM_RX: u8 = 1 << 0;

/// STATUS: data ready.
pub const RX_DR: u8 = 1 << 6;
/// STATUS: data sent.
pub const TX_DS: u8 = 1 << 5;
/// STATUS: too many retries.
pub const MAX_RT: u8 = 1 << 4;
/// STATUS: pipe number field value for "RX FIFO empty".
pub const RX_P_NO_EMPTY: u8 = 0b111;

/// FIFO_STATUS: RX FIFO full.
pub const RX_FULL: u8 = 1 << 1;

/// RF_SETUP: 250 kbps.
pub const RF_DR_LOW: u8 = 1 << 5;
/// RF_SETUP: −12 dBm and the LNA bit, as TMRh20's RF24 writes them.
pub const RF_PWR_LOW_LNA: u8 = 0b011;
