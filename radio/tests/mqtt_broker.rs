//! The MQTT source against a real broker (Debian's mosquitto, started here on a free loopback
//! port) and a real publisher (`mosquitto_pub`): Tasmota's messages are read, messages that hold
//! no total and one beyond the size limit are counted, never read, and a broker that goes away
//! and comes back is counted and reconnected to.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use daisee_radio::source::mqtt::{Fields, MqttSettings, MqttSource};
use daisee_radio::{Registers, Sample, Source};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Broker {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Broker {
    fn start(port: Option<u16>) -> Self {
        let port = port.unwrap_or_else(|| {
            std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
        });
        let dir = std::env::temp_dir().join(format!("daisee-mqtt-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let conf = dir.join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"),
        )
        .unwrap();
        let mosquitto = std::env::var("MOSQUITTO").unwrap_or_else(|_| "/usr/sbin/mosquitto".into());
        let child = Command::new(mosquitto)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto (apt-get install mosquitto; tests/run installs it)");
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(10), "mosquitto did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, port, dir }
    }

    fn publish(&self, topic: &str, message: &[u8]) {
        let file = self.dir.join("message");
        std::fs::write(&file, message).unwrap();
        let status = Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-t", topic, "-q", "1", "-f"])
            .arg(&file)
            .status()
            .expect("mosquitto_pub");
        assert!(status.success());
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const TOPIC: &str = "tele/plug/SENSOR";

fn tasmota(total_kwh: f64) -> Vec<u8> {
    format!(r#"{{"Time":"2026-12-02T10:00:00","ENERGY":{{"TotalStartTime":"2024-01-01T00:00:00","Total":{total_kwh},"Yesterday":3.1,"Today":1.2,"Power":420,"Voltage":231}}}}"#).into_bytes()
}

fn source(port: u16) -> MqttSource {
    MqttSource::connect(MqttSettings {
        host: "127.0.0.1".into(),
        port,
        topic: TOPIC.into(),
        client_id: format!("daisee-test-{port}"),
        credentials: None,
        fields: Fields {
            energy: Some("ENERGY.Total".into()),
            returned: None,
            power: Some("ENERGY.Power".into()),
            kwh: true,
        },
    })
    .unwrap()
}

/// Polls until `done` holds for the samples so far, or `within` passes.
fn poll_until(
    source: &mut MqttSource,
    within: Duration,
    done: impl Fn(&[Sample], &MqttSource) -> bool,
) -> Vec<Sample> {
    let start = Instant::now();
    let mut samples = Vec::new();
    while !done(&samples, source) {
        assert!(start.elapsed() < within, "waited {within:?}: {:?}", source.stats());
        samples.extend(source.poll().unwrap());
    }
    samples
}

/// Polls until subscribed (the broker answered the connection and the subscription).
fn connected(source: &mut MqttSource, broker: &Broker) {
    // Publish until one arrives: the subscription is in place once it does.
    let start = Instant::now();
    loop {
        broker.publish(TOPIC, &tasmota(0.5));
        let got = (0..5).flat_map(|_| source.poll().unwrap()).count();
        if got > 0 {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "never subscribed");
    }
}

#[test]
fn tasmota_totals_are_read_from_a_real_broker_and_bad_messages_counted() {
    let broker = Broker::start(None);
    let mut plug = source(broker.port);
    connected(&mut plug, &broker);
    let accepted = plug.stats().accepted;

    broker.publish(TOPIC, &tasmota(1234.567));
    let got = poll_until(&mut plug, Duration::from_secs(10), |s, _| !s.is_empty());
    assert_eq!(got[0].registers, Some(Registers { import_wh: 1_234_567, export_wh: None }));
    assert_eq!(got[0].power_w, 420);

    // Not JSON, no total, a negative total: counted, never read.
    broker.publish(TOPIC, b"<html>");
    broker.publish(TOPIC, br#"{"ENERGY":{"Today":1}}"#);
    broker.publish(TOPIC, &tasmota(-2.0));
    let bad = poll_until(&mut plug, Duration::from_secs(10), |_, p| {
        p.stats().corrupt + p.stats().implausible >= 3
    });
    assert!(bad.is_empty());
    assert_eq!((plug.stats().corrupt, plug.stats().implausible), (2, 1));
    // Another topic is not this meter's.
    broker.publish("tele/other/SENSOR", &tasmota(9.0));
    broker.publish(TOPIC, &tasmota(1234.6));
    let got = poll_until(&mut plug, Duration::from_secs(10), |s, _| !s.is_empty());
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].registers.unwrap().import_wh, 1_234_600);
    assert_eq!(plug.stats().accepted, accepted + 2);

    // A message beyond the size limit: the client drops the connection (counted), then comes
    // back and reads on.
    broker.publish(TOPIC, &vec![b'1'; 100 * 1024]);
    poll_until(&mut plug, Duration::from_secs(10), |_, p| p.stats().timeouts >= 1);
    std::thread::sleep(Duration::from_secs(1));
    connected(&mut plug, &broker);
}

#[test]
fn a_broker_that_goes_away_is_counted_and_reconnected_to() {
    let broker = Broker::start(None);
    let port = broker.port;
    let mut meter = source(port);
    connected(&mut meter, &broker);
    drop(broker);
    poll_until(&mut meter, Duration::from_secs(60), |_, m| m.stats().timeouts >= 1);
    let broker = Broker::start(Some(port));
    connected(&mut meter, &broker);
    broker.publish(TOPIC, &tasmota(42.0));
    let got = poll_until(&mut meter, Duration::from_secs(10), |s, _| !s.is_empty());
    assert_eq!(got[0].registers.unwrap().import_wh, 42_000);
}
