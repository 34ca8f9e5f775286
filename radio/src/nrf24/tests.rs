//! The driver against the simulated chip: spec §2.3's bring-up bytes, spec §8b.3's receive
//! sequence, an empty socket, and a full FIFO.

use super::sim_chip::SimChip;
use super::*;

struct NoDelay;

impl DelayNs for NoDelay {
    fn delay_ns(&mut self, _: u32) {}
}

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

#[test]
fn bring_up_writes_exactly_the_spec_sequence() {
    let chip = SimChip::default();
    let (spi, ce) = chip.parts();
    Nrf24::start(spi, ce, RadioConfig::default(), &mut NoDelay).unwrap();
    let expected: Vec<Vec<u8>> = [
        "20 0C",
        "21 3F",
        "22 03",
        "23 03",
        "24 FF",
        "25 4C",
        "26 23",
        "3C 00",
        "3D 00",
        "2B D0 46 D4 56 E0",
        "31 10",
        "32 10",
        "33 10",
        "34 10",
        "35 10",
        "36 10",
        "27 70",
        "E2",
        "E1",
        "20 0E",
        "20 0F",
        "27 70",
    ]
    .iter()
    .map(|s| hex(s))
    .collect();
    let log = chip.log();
    assert_eq!(log[..expected.len()], expected[..]);
    // Then only reads (the self-test): R_REGISTER opcodes.
    assert!(log[expected.len()..].iter().all(|frame| frame[0] < 0x20));
    assert_eq!(chip.register(registers::CONFIG), 0x0F);
    assert_eq!(chip.register(registers::RF_SETUP), 0x23);
    assert_eq!(chip.register(registers::RX_PW_P1), 0x10);
}

#[test]
fn the_1_mbps_option_changes_rf_setup_only() {
    let chip = SimChip::default();
    let (spi, ce) = chip.parts();
    let config = RadioConfig { data_rate: DataRate::Mbps1, ..Default::default() };
    Nrf24::start(spi, ce, config, &mut NoDelay).unwrap();
    assert!(chip.log().contains(&hex("26 03")));
}

#[test]
fn spec_8b_3_payloads_come_out_in_order_and_status_returns_to_empty() {
    let chip = SimChip::default();
    let (spi, ce) = chip.parts();
    let mut radio = Nrf24::start(spi, ce, RadioConfig::default(), &mut NoDelay).unwrap();
    let frame: [u8; 16] = hex("fccdc821803a23102210f95f90ef9811").try_into().unwrap();
    assert!(chip.receive(frame));
    assert_eq!(chip.register(registers::STATUS), 0x42);
    assert_eq!(radio.receive().unwrap(), vec![frame]);
    assert_eq!(chip.register(registers::STATUS), 0x0E);
    let read = [hex("61 FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF"), hex("27 40"), hex("FF")];
    assert!(chip.log().ends_with(&read), "read payload, clear RX_DR, see the FIFO empty");
    assert_eq!(radio.receive().unwrap(), Vec::<[u8; 16]>::new());
}

#[test]
fn a_full_fifo_is_counted_and_drained() {
    let chip = SimChip::default();
    let (spi, ce) = chip.parts();
    let mut radio = Nrf24::start(spi, ce, RadioConfig::default(), &mut NoDelay).unwrap();
    for i in 0..5u8 {
        chip.receive([i; 16]);
    }
    assert_eq!(chip.lost(), 2, "the chip holds three payloads");
    assert_eq!(radio.receive().unwrap(), vec![[0; 16], [1; 16], [2; 16]]);
    assert_eq!(radio.stats(), RadioStats { received: 3, overflows: 1 });
}

#[test]
fn an_empty_socket_is_reported_as_no_chip() {
    let chip = SimChip::new(false);
    let (spi, ce) = chip.parts();
    let err = Nrf24::start(spi, ce, RadioConfig::default(), &mut NoDelay).err().unwrap();
    assert!(matches!(err, RadioError::NoChip(0xFF)), "{err}");
    assert!(err.to_string().contains("no nRF24L01+"));
}
