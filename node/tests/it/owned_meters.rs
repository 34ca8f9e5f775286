//! The meters households own, end to end: a Linky in standard mode (a producer: drawn `EAST`
//! and injected `EAIT`) on a pseudo-terminal standing in for its TIC reader, with corrupted
//! frames among the good ones and a kill -9 in the middle; the node reports `reportReading`s
//! whose Wh are the registers' growth, both directions, every interval once, and counts what it
//! dropped. The same for a DSMR 5 meter on a P1 cable: both tariffs, both directions, telegrams
//! with a wrong CRC dropped.

use crate::meters::{one_meter_board, reported};
use crate::support::*;
use serde_json::json;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// A standard-mode data set with its checksum (the checksum sums label through the last TAB).
fn data_set(label: &str, value: &str) -> Vec<u8> {
    let covered = format!("{label}\t{value}\t");
    let sum: u32 = covered.bytes().map(u32::from).sum();
    let mut out = vec![0x0a];
    out.extend_from_slice(covered.as_bytes());
    out.push((sum & 0x3f) as u8 + 0x20);
    out.push(0x0d);
    out
}

fn frame(east: u64, eait: u64, corrupt: bool) -> Vec<u8> {
    let mut out = vec![0x02];
    out.extend(data_set("ADSC", "041776199277"));
    let mut east_set = data_set("EAST", &format!("{east:09}"));
    if corrupt {
        east_set[8] ^= 0x01; // one bit of a digit: the checksum no longer matches
    }
    out.extend(east_set);
    out.extend(data_set("EAIT", &format!("{eait:09}")));
    out.extend(data_set("SINSTS", "01163"));
    out.push(0x03);
    out
}

#[test]
fn a_linky_reports_its_registers_growth_in_both_directions_across_a_kill_9() {
    let pty = nix::pty::openpty(None, None).expect("a pseudo-terminal");
    let slave = std::fs::read_link(format!("/proc/self/fd/{}", pty.slave.as_raw_fd()))
        .expect("the pty's path");
    let dir = TempDir::new("linky");
    let sensor = format!(
        "direction = \"grid\"\nsource = \"tic\"\nmode = \"standard\"\npath = \"{}\"\n",
        slave.display()
    );
    let (config, meter) = one_meter_board(&dir, &sensor);
    let run = || NodeProcess::start(&["run", "--config", config.to_str().unwrap(), "--http"]);
    let mut node = run();
    // The meter: 3 Wh drawn and 1 Wh injected per second, a frame every second, one in five
    // corrupted on the way; the board is killed after 25 s and started again.
    let mut port = std::fs::File::from(pty.master);
    let start = Instant::now();
    let (east0, eait0) = (6_231_973u64, 350_847u64);
    let (mut sent, mut killed) = (0u64, false);
    // The wall-clock span (unix s) the board was down: the frames of those seconds are read in a
    // burst when it is back, so the intervals around it split their Wh unevenly.
    let (mut down_from, mut back_at) = (u64::MAX, u64::MAX);
    while start.elapsed() < Duration::from_secs(55) {
        // The registers as the meter counts them at this instant (not a staircase of whole
        // seconds: the test's own sleep drifts).
        let ms = start.elapsed().as_millis() as u64;
        port.write_all(&frame(east0 + 3 * ms / 1000, eait0 + ms / 1000, sent % 5 == 4)).unwrap();
        sent += 1;
        if !killed && ms >= 25_000 {
            down_from = unix_now();
            node.kill();
            node = run();
            back_at = unix_now();
            killed = true;
        }
        std::thread::sleep(Duration::from_millis(1000));
    }
    let got = reported(&node, meter);
    eprintln!("readings: {got:?}");
    assert!(got.len() >= 4, "{got:?}");
    // The first reading sets the baseline; the next ones are whole 10 s intervals: 30 Wh drawn and
    // 10 Wh injected each, give or take the few seconds of frames a loaded machine delivers late
    // (an edge is interpolated on reception time); the total below is exact. The intervals the
    // restart overlaps (ending from the kill until one interval after the board is back, plus a
    // second for the frame in flight) share their Wh as the burst fell: only the total binds them.
    let around_restart = |end: u64| end >= down_from && end <= back_at + 11;
    let steady: Vec<_> = got[1..].iter().filter(|r| !around_restart(r.interval_end)).collect();
    assert!(!steady.is_empty(), "an interval away from the restart: {got:?}");
    for r in steady {
        assert!((21..=39).contains(&r.consumed_wh), "{r:?} of {got:?}");
        assert!((7..=13).contains(&r.produced_wh), "{r:?} of {got:?}");
    }
    let ends: Vec<u64> = got.iter().map(|r| r.interval_end).collect();
    assert!(ends.windows(2).all(|w| w[1] == w[0] + 10), "every interval once: {ends:?}");
    // Totals are what the registers grew between the first and the last edge: exact, give or
    // take a frame read up to a second late at either edge (3 Wh a second).
    let drawn: u64 = got[1..].iter().map(|r| r.consumed_wh).sum();
    let span = (got.len() as u64 - 1) * 10;
    assert!(drawn.abs_diff(3 * span) <= 6, "{drawn} Wh over {span} s");
    let status = node.ok("daisee_meters", json!([]))[0].clone();
    let stats = &status["sensors"][0]["stats"];
    // Counters since the restart: the corrupt frames were dropped, the good ones read.
    assert!(stats["corrupt"].as_u64().unwrap() >= 3, "{status}");
    assert!(stats["accepted"].as_u64().unwrap() >= 15, "{status}");
    assert_eq!(status["rebases"], 0, "the register went on across the restart: {status}");
    assert!(node.terminate());
    drop(pty.slave);
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// CRC-16/ARC (polynomial 0xA001 reflected, initial 0), as DSMR 4 and 5 close a telegram.
fn crc16(data: &[u8]) -> u16 {
    let mut crc = 0u16;
    for byte in data {
        crc ^= u16::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xA001 } else { crc >> 1 };
        }
    }
    crc
}

/// A DSMR 5 telegram with both tariffs' registers (Wh), its CRC computed, or broken.
fn telegram(drawn: [u64; 2], returned: [u64; 2], corrupt: bool) -> Vec<u8> {
    let kwh = |wh: u64| format!("{:06}.{:03}*kWh", wh / 1000, wh % 1000);
    let body = format!(
        "/ISK5\\2M550T-1012\r\n\r\n1-3:0.2.8(50)\r\n0-0:96.1.1(4530303434303037313331363530363138)\r\n\
         1-0:1.8.1({})\r\n1-0:1.8.2({})\r\n1-0:2.8.1({})\r\n1-0:2.8.2({})\r\n1-0:1.7.0(00.433*kW)\r\n!",
        kwh(drawn[0]),
        kwh(drawn[1]),
        kwh(returned[0]),
        kwh(returned[1])
    );
    let crc = crc16(body.as_bytes()) ^ u16::from(corrupt);
    format!("{body}{crc:04X}\r\n").into_bytes()
}

#[test]
fn a_dsmr_meter_reports_both_tariffs_and_both_directions() {
    let pty = nix::pty::openpty(None, None).expect("a pseudo-terminal");
    let slave = std::fs::read_link(format!("/proc/self/fd/{}", pty.slave.as_raw_fd()))
        .expect("the pty's path");
    let dir = TempDir::new("p1");
    let sensor = format!("direction = \"grid\"\nsource = \"p1\"\npath = \"{}\"\n", slave.display());
    let (config, meter) = one_meter_board(&dir, &sensor);
    let node = NodeProcess::start(&["run", "--config", config.to_str().unwrap(), "--http"]);
    // Tariff 1 draws 2 Wh/s, tariff 2 1 Wh/s; 4 Wh/s go back on tariff 1: a telegram a second,
    // one in five with a CRC that does not match.
    let mut port = std::fs::File::from(pty.master);
    let start = Instant::now();
    let mut sent = 0u64;
    while start.elapsed() < Duration::from_secs(35) {
        let ms = start.elapsed().as_millis() as u64;
        let (two, one, four) = (2 * ms / 1000, ms / 1000, 4 * ms / 1000);
        let t = telegram([3_432_829 + two, 3_224_632 + one], [1_000 + four, 7], sent % 5 == 4);
        port.write_all(&t).unwrap();
        sent += 1;
        std::thread::sleep(Duration::from_millis(1000));
    }
    let got = reported(&node, meter);
    assert!(got.len() >= 3, "{got:?}");
    // Give or take the few seconds of telegrams a loaded machine delivers late.
    for r in &got[1..] {
        assert!((21..=39).contains(&r.consumed_wh), "{r:?} of {got:?}");
        assert!((28..=52).contains(&r.produced_wh), "{r:?} of {got:?}");
    }
    let drawn: u64 = got[1..].iter().map(|r| r.consumed_wh).sum();
    let span = (got.len() as u64 - 1) * 10;
    assert!(drawn.abs_diff(3 * span) <= 6, "{drawn} Wh over {span} s");
    let status = node.ok("daisee_meters", json!([]))[0].clone();
    let stats = &status["sensors"][0]["stats"];
    assert!(stats["corrupt"].as_u64().unwrap() >= sent / 5 - 1, "{status}");
    assert_eq!(status["rebases"], 0, "{status}");
    assert!(node.terminate());
    drop(pty.slave);
}
