//! The Modbus source against an independent Modbus RTU slave: tokio-modbus's RTU server, on
//! the master side of a pseudo-terminal pair, answering as an Eastron SDM630 (float32 input
//! registers), then with exceptions, then not at all, then with a value that is no energy total.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use daisee_radio::modbus::{self, READ_INPUT_REGISTERS};
use daisee_radio::source::modbus::{ModbusSettings, ModbusSource};
use daisee_radio::{Registers, Source};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_modbus::{ExceptionCode, Request, Response, SlaveRequest};
use tokio_serial::SerialPort;

/// How the simulated meter behaves.
#[derive(Debug, Clone, Copy)]
struct Meter {
    import_kwh: f32,
    export_kwh: f32,
    power_w: f32,
    /// Answers with this exception instead.
    exception: Option<ExceptionCode>,
    /// Does not answer.
    silent: bool,
}

const SLAVE: u8 = 7;

struct Slave(Arc<Mutex<Meter>>);

impl tokio_modbus::server::Service for Slave {
    type Request = SlaveRequest<'static>;
    type Response = Option<Response>;
    type Exception = ExceptionCode;
    type Future = std::future::Ready<Result<Option<Response>, ExceptionCode>>;

    fn call(&self, req: SlaveRequest<'static>) -> Self::Future {
        let meter = *self.0.lock().unwrap();
        // A request for another address, or a silent meter: no answer at all.
        if req.slave != SLAVE || meter.silent {
            return std::future::ready(Ok(None));
        }
        if let Some(code) = meter.exception {
            return std::future::ready(Err(code));
        }
        let answer = match req.request {
            Request::ReadInputRegisters(first, 2) => {
                let value = match first {
                    0x0048 => meter.import_kwh,
                    0x004a => meter.export_kwh,
                    0x0034 => meter.power_w,
                    _ => return std::future::ready(Err(ExceptionCode::IllegalDataAddress)),
                };
                let bits = value.to_bits();
                Ok(Some(Response::ReadInputRegisters(vec![(bits >> 16) as u16, bits as u16])))
            }
            Request::ReadInputRegisters(..) => Err(ExceptionCode::IllegalDataAddress),
            _ => Err(ExceptionCode::IllegalFunction),
        };
        std::future::ready(answer)
    }
}

/// Starts the slave; returns the path of the pseudo-terminal a client opens.
fn start_slave(meter: Arc<Mutex<Meter>>) -> String {
    let (path_tx, path_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let (master, slave) = tokio_serial::SerialStream::pair().expect("pty pair");
            path_tx.send(slave.name().expect("slave name")).unwrap();
            // The slave side stays open (a pty master reads EIO once no slave is open).
            let _slave = slave;
            let server = tokio_modbus::server::rtu::Server::new(master);
            let _ = server.serve_forever(Slave(meter)).await;
        });
    });
    path_rx.recv_timeout(Duration::from_secs(5)).expect("slave started")
}

fn source(path: &str, slave: u8) -> ModbusSource {
    ModbusSource::open(ModbusSettings {
        path: path.into(),
        baud: 9600,
        slave,
        map: modbus::model("sdm630").unwrap(),
        function: READ_INPUT_REGISTERS,
        every: Duration::from_millis(50),
    })
    .expect("open")
}

/// Polls until a poll reads the meter (the source reads it every 50 ms).
fn read_once(source: &mut ModbusSource) -> Vec<daisee_radio::Sample> {
    let before = source.stats();
    for _ in 0..50 {
        let samples = source.poll().expect("poll");
        let after = source.stats();
        if !samples.is_empty() || after != before {
            return samples;
        }
    }
    panic!("the meter was never read");
}

#[test]
fn an_sdm630_is_read_from_its_registers_and_every_failure_is_counted_never_read() {
    let meter = Arc::new(Mutex::new(Meter {
        import_kwh: 1234.567,
        export_kwh: 12.5,
        power_w: -850.0,
        exception: None,
        silent: false,
    }));
    let path = start_slave(meter.clone());
    let mut sdm = source(&path, SLAVE);

    let sample = read_once(&mut sdm);
    let registers = Registers { import_wh: 1_234_567, export_wh: Some(12_500) };
    assert_eq!(sample[0].registers, Some(registers));
    assert_eq!(sample[0].power_w, 850, "returning 850 W");
    meter.lock().unwrap().export_kwh = 12.75;
    let sample = read_once(&mut sdm);
    assert_eq!(sample[0].registers.unwrap().export_wh, Some(12_750));
    assert_eq!(sdm.stats().accepted, 2);

    // A meter that refuses (a wrong model's registers): counted, no reading.
    meter.lock().unwrap().exception = Some(ExceptionCode::IllegalDataAddress);
    assert!(read_once(&mut sdm).is_empty());
    assert_eq!(sdm.stats().refused, 1);
    meter.lock().unwrap().exception = None;

    // A value that is no energy total (NaN): counted as implausible, no reading.
    meter.lock().unwrap().import_kwh = f32::NAN;
    assert!(read_once(&mut sdm).is_empty());
    assert_eq!(sdm.stats().implausible, 1);
    meter.lock().unwrap().import_kwh = 1234.6;

    // A meter that went silent: a timeout, no reading; it is read again once it answers.
    meter.lock().unwrap().silent = true;
    assert!(read_once(&mut sdm).is_empty());
    assert_eq!(sdm.stats().timeouts, 1);
    meter.lock().unwrap().silent = false;
    let sample = read_once(&mut sdm);
    assert_eq!(sample[0].registers.unwrap().import_wh, 1_234_600);
    assert_eq!((sdm.stats().accepted, sdm.stats().corrupt), (3, 0));
}

#[test]
fn a_client_at_the_wrong_address_hears_nothing_and_says_so() {
    let meter = Arc::new(Mutex::new(Meter {
        import_kwh: 1.0,
        export_kwh: 0.0,
        power_w: 0.0,
        exception: None,
        silent: false,
    }));
    let path = start_slave(meter);
    let mut wrong = source(&path, SLAVE + 1);
    assert!(read_once(&mut wrong).is_empty());
    assert_eq!(wrong.stats().timeouts, 1);
    assert!(
        ModbusSource::open(ModbusSettings {
            path: path.into(),
            baud: 9600,
            slave: 0,
            map: modbus::model("sdm120").unwrap(),
            function: READ_INPUT_REGISTERS,
            every: Duration::from_secs(1),
        })
        .is_err(),
        "0 is the broadcast address: nothing answers it"
    );
}
