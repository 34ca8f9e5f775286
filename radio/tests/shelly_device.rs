//! The Shelly source against a small HTTP server on loopback answering as Gen2 devices do (the
//! documented `EMData`/`EM`, `Switch` answers), then as devices that fail: a password, a server
//! error, an answer that is not JSON, one too large, a negative total, and silence.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use daisee_radio::source::shelly::{Component, ShellySource};
use daisee_radio::{Registers, Source};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the device answers: (status, body) for a request's path, or `None` for silence.
type Answer = dyn Fn(&str) -> Option<(u16, String)> + Send + Sync;

/// Serves `answer` on a loopback port; returns `http://127.0.0.1:port`.
fn device(answer: Arc<Mutex<Box<Answer>>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let path = line.split(' ').nth(1).unwrap_or_default().to_string();
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
            }
            let reply = (answer.lock().unwrap())(&path);
            match reply {
                Some((status, body)) => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: \
                         {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                }
                // Silence: hold the connection open past the client's timeout.
                None => std::thread::sleep(Duration::from_secs(5)),
            }
        }
    });
    url
}

/// Polls until the source has read the device once.
fn read_once(source: &mut ShellySource) -> Vec<daisee_radio::Sample> {
    let before = source.stats();
    for _ in 0..100 {
        let samples = source.poll().expect("poll");
        if !samples.is_empty() || source.stats() != before {
            return samples;
        }
    }
    panic!("the device was never read");
}

/// A Pro 3EM's answers (from the EMData and EM component documentation).
fn pro_3em(path: &str, total: f64) -> Option<(u16, String)> {
    let body = match path {
        "/rpc/EMData.GetStatus?id=0" => format!(
            r#"{{"id":0,"a_total_act_energy":{total},"a_total_act_ret_energy":0,"b_total_act_energy":0,"b_total_act_ret_energy":0,"c_total_act_energy":0,"c_total_act_ret_energy":0,"total_act":{total},"total_act_ret":1520.25}}"#
        ),
        "/rpc/EM.GetStatus?id=0" => r#"{"id":0,"a_current":4.029,"a_voltage":236.1,"a_act_power":951.2,"a_aprt_power":951.9,"a_pf":1,"total_current":4.029,"total_act_power":951.2,"total_aprt_power":951.9}"#.to_string(),
        _ => return Some((404, r#"{"code":404,"message":"No handler"}"#.to_string())),
    };
    Some((200, body))
}

#[test]
fn a_pro_3em_is_read_from_its_totals_and_every_failure_is_counted_never_read() {
    let total = Arc::new(Mutex::new(2_776_175.83f64));
    let t = total.clone();
    let answer: Arc<Mutex<Box<Answer>>> =
        Arc::new(Mutex::new(Box::new(move |path| pro_3em(path, *t.lock().unwrap()))));
    let url = device(answer.clone());
    let mut meter = ShellySource::new(&url, Component::Em, 0, Duration::from_millis(20)).unwrap();
    let sample = read_once(&mut meter);
    let registers = Registers { import_wh: 2_776_176, export_wh: Some(1_520) };
    assert_eq!(sample[0].registers, Some(registers));
    assert_eq!(sample[0].power_w, 951);
    *total.lock().unwrap() += 250.0;
    assert_eq!(read_once(&mut meter)[0].registers.unwrap().import_wh, 2_776_426);

    let failures: [(&str, Box<Answer>); 5] = [
        ("refused", Box::new(|_: &str| Some((401, r#"{"code":401}"#.to_string())))),
        ("refused", Box::new(|_: &str| Some((500, "oops".to_string())))),
        ("corrupt", Box::new(|_: &str| Some((200, "<html>captive portal</html>".to_string())))),
        ("corrupt", Box::new(|_: &str| Some((200, format!("[{}]", "1,".repeat(40_000) + "1"))))),
        (
            "implausible",
            Box::new(|_: &str| Some((200, r#"{"id":0,"total_act":-5,"total_act_ret":0}"#.into()))),
        ),
    ];
    let mut expected = meter.stats();
    for (kind, failing) in failures {
        *answer.lock().unwrap() = failing;
        assert!(read_once(&mut meter).is_empty(), "{kind}");
        match kind {
            "refused" => expected.refused += 1,
            "corrupt" => expected.corrupt += 1,
            _ => expected.implausible += 1,
        }
        assert_eq!(meter.stats(), expected, "{kind}");
    }
    // A device that stops answering: a timeout, no reading.
    *answer.lock().unwrap() = Box::new(|_: &str| None);
    assert!(read_once(&mut meter).is_empty());
    assert_eq!(meter.stats().timeouts, 1);
    // And nobody at the address at all.
    let nobody = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", nobody.local_addr().unwrap());
    drop(nobody);
    let mut gone = ShellySource::new(&url, Component::Em, 0, Duration::from_secs(1)).unwrap();
    assert!(read_once(&mut gone).is_empty());
    assert_eq!(gone.stats().timeouts, 1);
}

#[test]
fn a_plug_gives_its_switch_energy_and_urls_are_checked() {
    let answer: Arc<Mutex<Box<Answer>>> = Arc::new(Mutex::new(Box::new(|path: &str| {
        (path == "/rpc/Switch.GetStatus?id=1").then(|| {
            (200, r#"{"id":1,"source":"init","output":true,"apower":8.9,"voltage":237.5,"current":0.068,"aenergy":{"total":6.532,"by_minute":[0,0,0],"minute_ts":1700000000},"temperature":{"tC":23.5,"tF":74.3}}"#.to_string())
        })
    })));
    let url = device(answer);
    let mut plug = ShellySource::new(&url, Component::Switch, 1, Duration::from_secs(1)).unwrap();
    let sample = read_once(&mut plug);
    assert_eq!(sample[0].registers, Some(Registers { import_wh: 7, export_wh: None }));
    assert_eq!(sample[0].power_w, 8);
    for bad in ["https://10.0.0.5", "10.0.0.5", "http://", "http://10.0.0.5/rpc", "http://u:p@h"] {
        assert!(ShellySource::new(bad, Component::Em, 0, Duration::from_secs(1)).is_err(), "{bad}");
    }
}
