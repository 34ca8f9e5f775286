//! The nRF24L01+ on SPI as a source, and the board backends that open it: `rpi` (rppal) and
//! `linux` (spidev + GPIO character device). Both are features; the source itself is generic
//! and is tested against the simulated chip.

use super::{wall_ms, FrameFilter, Sample, Source, SourceError};
use crate::frame::SensorKey;
use crate::nrf24::Nrf24;
use embedded_hal::digital::OutputPin;
use embedded_hal::spi::SpiDevice;

/// Frames received by the radio.
pub struct RadioSource<SPI, CE> {
    radio: Nrf24<SPI, CE>,
    filter: FrameFilter,
}

impl<SPI, CE> RadioSource<SPI, CE>
where
    SPI: SpiDevice + Send,
    CE: OutputPin + Send,
{
    /// A source over a started radio.
    pub fn new(radio: Nrf24<SPI, CE>, key: SensorKey) -> Self {
        Self { radio, filter: FrameFilter::new(key) }
    }
}

impl<SPI, CE> Source for RadioSource<SPI, CE>
where
    SPI: SpiDevice + Send,
    CE: OutputPin + Send,
{
    fn kind(&self) -> &'static str {
        "radio"
    }

    fn live(&self) -> bool {
        true
    }

    fn poll(&mut self) -> Result<Vec<Sample>, SourceError> {
        let frames = self.radio.receive().map_err(|e| SourceError::Radio(e.to_string()))?;
        self.filter.stats.overruns = self.radio.stats().overflows;
        let now = wall_ms();
        Ok(frames.iter().filter_map(|f| self.filter.frame(f, now)).collect())
    }

    fn now_ms(&self) -> u64 {
        wall_ms()
    }

    fn filter(&self) -> Option<&FrameFilter> {
        Some(&self.filter)
    }

    fn filter_mut(&mut self) -> Option<&mut FrameFilter> {
        Some(&mut self.filter)
    }
}

/// Opens the radio on a Raspberry Pi: SPI0 with CE0 as chip select at 8 MHz, CE on `ce_gpio`
/// (BCM numbering; 25 as on the CitizenWatt base).
#[cfg(feature = "rpi")]
pub fn open_rpi(
    config: crate::nrf24::RadioConfig,
    ce_gpio: u8,
    key: SensorKey,
) -> Result<Box<dyn Source>, SourceError> {
    use rppal::gpio::Gpio;
    use rppal::spi::{Bus, Mode, SimpleHalSpiDevice, SlaveSelect, Spi};
    let radio_err = |e: &dyn std::fmt::Display| SourceError::Radio(e.to_string());
    let spi =
        Spi::new(Bus::Spi0, SlaveSelect::Ss0, 8_000_000, Mode::Mode0).map_err(|e| radio_err(&e))?;
    let ce = Gpio::new().and_then(|g| g.get(ce_gpio)).map_err(|e| radio_err(&e))?.into_output();
    let radio = Nrf24::start(SimpleHalSpiDevice::new(spi), ce, config, &mut crate::StdDelay)
        .map_err(|e| radio_err(&e))?;
    Ok(Box::new(RadioSource::new(radio, key)))
}

/// Opens the radio on another Linux board: a spidev device (e.g. `/dev/spidev0.0`) and CE as
/// line `ce_line` of a GPIO chip (e.g. `/dev/gpiochip0`).
#[cfg(feature = "linux")]
pub fn open_linux(
    config: crate::nrf24::RadioConfig,
    spidev: &std::path::Path,
    gpiochip: &std::path::Path,
    ce_line: u32,
    key: SensorKey,
) -> Result<Box<dyn Source>, SourceError> {
    use linux_embedded_hal::gpio_cdev::{Chip, LineRequestFlags};
    use linux_embedded_hal::spidev::{SpiModeFlags, SpidevOptions};
    use linux_embedded_hal::{CdevPin, SpidevDevice};
    let radio_err = |e: &dyn std::fmt::Display| SourceError::Radio(e.to_string());
    let mut spi = SpidevDevice::open(spidev).map_err(|e| radio_err(&e))?;
    let options = SpidevOptions::new()
        .bits_per_word(8)
        .max_speed_hz(8_000_000)
        .mode(SpiModeFlags::SPI_MODE_0)
        .build();
    spi.configure(&options).map_err(|e| radio_err(&e))?;
    let line = Chip::new(gpiochip)
        .and_then(|mut c| c.get_line(ce_line))
        .and_then(|l| l.request(LineRequestFlags::OUTPUT, 0, "daisee-nrf24-ce"))
        .map_err(|e| radio_err(&e))?;
    let ce = CdevPin::new(line).map_err(|e| radio_err(&e))?;
    let radio = Nrf24::start(spi, ce, config, &mut crate::StdDelay).map_err(|e| radio_err(&e))?;
    Ok(Box::new(RadioSource::new(radio, key)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Measurement;
    use crate::nrf24::sim_chip::SimChip;
    use crate::nrf24::RadioConfig;

    struct NoDelay;
    impl embedded_hal::delay::DelayNs for NoDelay {
        fn delay_ns(&mut self, _: u32) {}
    }

    #[test]
    fn frames_from_the_air_become_samples_and_bad_ones_are_counted() {
        let chip = SimChip::default();
        let (spi, ce) = chip.parts();
        let radio = Nrf24::start(spi, ce, RadioConfig::default(), &mut NoDelay).unwrap();
        let mut source = RadioSource::new(radio, SensorKey::default());
        let key = SensorKey::default();
        let m = |timer_ms, power_w| {
            Measurement { power_w, voltage_v: 240, battery_mv: 3300, timer_ms }.encode(&key)
        };
        let mut corrupt = m(2000, 500);
        corrupt[3] ^= 1;
        for frame in [m(1000, 450), corrupt, m(1000, 450)] {
            chip.receive(frame);
        }
        let samples = source.poll().unwrap();
        assert_eq!(samples.len(), 1);
        assert_eq!((samples[0].power_w, samples[0].battery_mv), (450, Some(3300)));
        chip.receive(m(9000, 30_000));
        chip.receive(m(17_000, 470));
        assert_eq!(source.poll().unwrap().len(), 1);
        let stats = source.stats();
        assert_eq!(
            (stats.accepted, stats.corrupt, stats.duplicates, stats.implausible),
            (2, 1, 1, 1)
        );
    }
}
