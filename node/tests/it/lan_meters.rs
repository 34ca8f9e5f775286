//! Meters on the household's network, end to end: a Shelly Pro 3EM (an HTTP server on loopback
//! answering its documented `EMData`/`EM` status) and a Tasmota plug publishing on a real
//! mosquitto broker. Each board is configured in a few lines and reports `reportReading`s whose
//! Wh are the device's totals' growth, every interval once.

use crate::meters::{one_meter_board, reported};
use crate::support::*;
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Every interval once, each about `drawn` and `returned` Wh (a loaded machine reads a few
/// seconds late), and the drawn total within a few Wh of `drawn` per interval.
fn check_readings(got: &[daisee_node::meter::Reading], drawn: u64, returned: u64) {
    assert!(got.len() >= 3, "{got:?}");
    let ends: Vec<u64> = got.iter().map(|r| r.interval_end).collect();
    assert!(ends.windows(2).all(|w| w[1] == w[0] + 10), "every interval once: {ends:?}");
    // The first reading only sets the baseline.
    for r in &got[1..] {
        assert!(r.consumed_wh.abs_diff(drawn) <= drawn * 3 / 10, "{r:?} of {got:?}");
        assert!(r.produced_wh.abs_diff(returned) <= returned * 3 / 10 + 1, "{r:?} of {got:?}");
    }
    let total: u64 = got[1..].iter().map(|r| r.consumed_wh).sum();
    let expected = (got.len() as u64 - 1) * drawn;
    assert!(total.abs_diff(expected) <= drawn / 2 + 3, "{total} Wh, expected {expected}");
}

#[test]
fn a_shelly_pro_3em_on_the_lan_reports_its_totals_growth() {
    // The device: 2 Wh drawn and 1 Wh returned per second since the test started.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            if stopped.load(Ordering::Relaxed) {
                break;
            }
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
            }
            let s = started.elapsed().as_secs_f64();
            let body = if line.contains("/rpc/EMData.GetStatus?id=0") {
                format!(
                    r#"{{"id":0,"a_total_act_energy":{0},"a_total_act_ret_energy":{1},"total_act":{0},"total_act_ret":{1}}}"#,
                    5_000_000.0 + 2.0 * s,
                    120_000.0 + s
                )
            } else {
                r#"{"id":0,"a_act_power":7200,"total_act_power":7200.0}"#.to_string()
            };
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let dir = TempDir::new("shelly");
    let sensor = format!(
        "direction = \"grid\"\nsource = \"shelly\"\nurl = \"{url}\"\ncomponent = \"em\"\nevery = 1\n"
    );
    let (config, meter) = one_meter_board(&dir, &sensor);
    let node = NodeProcess::start(&["run", "--config", config.to_str().expect("path"), "--http"]);
    wait_for("four readings", Duration::from_secs(60), || reported(&node, meter).len() >= 4);
    check_readings(&reported(&node, meter), 20, 10);
    let status = node.ok("daisee_meters", json!([]))[0].clone();
    assert_eq!(status["sensors"][0]["source"], "shelly", "{status}");
    assert_eq!(status["sensors"][0]["lastPowerW"], 7200, "{status}");
    assert_eq!(status["rebases"], 0, "{status}");
    stop.store(true, Ordering::Relaxed);
    assert!(node.terminate());
}

#[test]
fn a_tasmota_plug_on_a_real_broker_reports_its_totals_growth() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a port")
        .port();
    let dir = TempDir::new("mqtt");
    let conf = dir.path().join("mosquitto.conf");
    std::fs::write(&conf, format!("listener {port} 127.0.0.1\nallow_anonymous true\n"))
        .expect("conf");
    let mosquitto = std::env::var("MOSQUITTO").unwrap_or_else(|_| "/usr/sbin/mosquitto".into());
    let mut broker = std::process::Command::new(mosquitto)
        .arg("-c")
        .arg(&conf)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("mosquitto (tests/run installs it)");
    wait_for("mosquitto", Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let sensor = "direction = \"consumption\"\nsource = \"mqtt\"\n\
                  broker = \"127.0.0.1:PORT\"\ntopic = \"tele/plug/SENSOR\"\n\
                  field = \"ENERGY.Total\"\npower_field = \"ENERGY.Power\"\nunit = \"kWh\"\n"
        .replace("PORT", &port.to_string());
    let (config, meter) = one_meter_board(&dir, &sensor);
    let node = NodeProcess::start(&["run", "--config", config.to_str().expect("path"), "--http"]);
    // The plug: 3 Wh per second, published every second (as kWh with three decimals).
    let start = Instant::now();
    while reported(&node, meter).len() < 4 {
        assert!(start.elapsed() < Duration::from_secs(90), "{:?}", reported(&node, meter));
        let wh = 1_234_567 + 3 * start.elapsed().as_millis() as u64 / 1000;
        let message = format!(
            r#"{{"Time":"2026-12-02T10:00:00","ENERGY":{{"Total":{}.{:03},"Power":10800}}}}"#,
            wh / 1000,
            wh % 1000
        );
        let published = std::process::Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-t", "tele/plug/SENSOR", "-m"])
            .arg(&message)
            .status()
            .expect("mosquitto_pub");
        assert!(published.success());
        std::thread::sleep(Duration::from_millis(1000));
    }
    let got = reported(&node, meter);
    check_readings(&got, 30, 0);
    assert!(got.iter().all(|r| r.produced_wh == 0), "a consumption meter produces nothing");
    let status = node.ok("daisee_meters", json!([]))[0].clone();
    assert_eq!(status["sensors"][0]["source"], "mqtt", "{status}");
    assert!(node.terminate());
    let _ = broker.kill();
    let _ = broker.wait();
}
