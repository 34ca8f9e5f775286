//! The meter service in real processes: `daisee dev`'s households move balances on chain;
//! kill -9 at random moments loses and duplicates no interval (checked against the same
//! simulation computed here); a report that reverts stays in the outbox, visible over RPC,
//! until the meter is registered.

use crate::support::*;
use alloy_sol_types::{SolCall, SolEvent};
use daisee_contracts::Daisee;
use daisee_node::community::DAISEE_ADDRESS;
use daisee_node::meter::{Direction, MeterState, Reading};
use daisee_node::primitives::{Address, Bytes, U256};
use daisee_radio::source::sim::{Profile, SimClock, SimSensor};
use daisee_radio::Source;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn view(node: &NodeProcess, input: Vec<u8>) -> Vec<u8> {
    let out =
        node.ok("eth_call", json!([{"to": DAISEE_ADDRESS, "data": Bytes::from(input)}, "latest"]));
    hex::decode(out.as_str().unwrap().trim_start_matches("0x")).unwrap()
}

fn production(node: &NodeProcess, a: Address) -> U256 {
    let out = view(node, Daisee::productionOfCall { account: a }.abi_encode());
    Daisee::productionOfCall::abi_decode_returns(&out).unwrap()
}

fn consumption(node: &NodeProcess, a: Address) -> U256 {
    let out = view(node, Daisee::consumptionOfCall { account: a }.abi_encode());
    Daisee::consumptionOfCall::abi_decode_returns(&out).unwrap()
}

fn last_interval(node: &NodeProcess, a: Address) -> u64 {
    let out = view(node, Daisee::lastIntervalOfCall { meter: a }.abi_encode());
    Daisee::lastIntervalOfCall::abi_decode_returns(&out).unwrap()
}

/// The households of `daisee dev`: producer, consumer, prosumer (the last three accounts).
fn households() -> [Address; 3] {
    [dev_key(7).address(), dev_key(8).address(), dev_key(9).address()]
}

/// A board's folder: `genesis.json` written by `daisee genesis <args>`, a datadir `data` holding
/// it and `keys` in its keystore (password `pw` in `pw.txt`), and `board.toml` with `config`.
pub fn board(
    dir: &TempDir,
    genesis_args: &[&str],
    keys: &[&daisee_node::primitives::PrivateKey],
    config: &str,
) -> std::path::PathBuf {
    std::fs::write(dir.path().join("pw.txt"), "pw\n").unwrap();
    let genesis = dir.path().join("genesis.json");
    let mut args = vec!["genesis"];
    args.extend_from_slice(genesis_args);
    args.extend(["--out", genesis.to_str().unwrap()]);
    daisee_ok(&args);
    let data = dir.path().join("data");
    daisee_ok(&["init", genesis.to_str().unwrap(), "--datadir", data.to_str().unwrap()]);
    import_keys(dir, &data, keys);
    let path = dir.path().join("board.toml");
    std::fs::write(&path, config).unwrap();
    path
}

#[test]
fn dev_households_move_balances_on_chain_for_a_minute() {
    let node = NodeProcess::start(&["dev"]);
    let [producer, consumer, prosumer] = households();
    let snapshot = |node: &NodeProcess| {
        (
            production(node, producer),
            consumption(node, consumer),
            production(node, prosumer),
            consumption(node, prosumer),
        )
    };
    let mut seen = vec![snapshot(&node)];
    for _ in 0..3 {
        std::thread::sleep(Duration::from_secs(20));
        seen.push(snapshot(&node));
    }
    for pair in seen.windows(2) {
        let ((p0, c0, pp0, pc0), (p1, c1, pp1, pc1)) = (pair[0], pair[1]);
        assert!(c1 > c0 && pc1 > pc0, "consumption grows every 20 s: {seen:?}");
        assert!(p1 > p0 && pp1 > pp0, "the sun is up in the simulated morning: {seen:?}");
    }
    let meters = node.ok("daisee_meters", json!([]));
    let meters = meters.as_array().unwrap();
    assert_eq!(meters.len(), 3);
    for m in meters {
        assert!(m["confirmed"].as_u64().unwrap() > 0, "{m}");
        assert_eq!(m["reverts"], json!(0), "{m}");
    }
}

/// The readings the node must have reported: the same households computed here.
fn expected_readings(start_s: u64, interval_s: u64, until_s: u64) -> [Vec<Reading>; 3] {
    let clock = SimClock::accelerated(start_s * 1000, 1.0e15);
    let households: [Vec<(Direction, Profile, u64)>; 3] = [
        vec![(Direction::Production, Profile::Solar { peak_w: 3000 }, 1)],
        vec![(Direction::Consumption, Profile::Load { base_w: 300 }, 2)],
        vec![
            (Direction::Production, Profile::Solar { peak_w: 2000 }, 3),
            (Direction::Consumption, Profile::Load { base_w: 250 }, 4),
        ],
    ];
    households.map(|sensors| {
        let directions: Vec<Direction> = sensors.iter().map(|s| s.0).collect();
        let polled = sensors
            .iter()
            .map(|(_, profile, seed)| {
                let mut sensor = SimSensor::new(*profile, *seed, clock);
                let mut samples = Vec::new();
                while samples
                    .last()
                    .is_none_or(|s: &daisee_radio::Sample| s.at_ms <= until_s * 1000 + 60_000)
                {
                    samples.extend(sensor.poll().unwrap());
                }
                samples
            })
            .collect();
        let mut state = MeterState::default();
        state.advance(interval_s * 1000, &directions, polled, until_s * 1000 + 1)
    })
}

/// A board with `sensor` (a `[[meter.sensor]]` body) as its meter, reading every 10 s.
pub fn one_meter_board(
    dir: &TempDir,
    sensor: &str,
) -> (std::path::PathBuf, daisee_node::primitives::Address) {
    let (owner, meter) = (dev_key(0), dev_key(5));
    let fund =
        |k: &daisee_node::primitives::PrivateKey| format!("{}=1000000000000000000000", k.address());
    let (owner_s, meter_s) = (owner.address().to_string(), meter.address().to_string());
    let config = board(
        dir,
        &[
            "--networkid",
            "4848",
            "--period",
            "0",
            "--signer",
            &owner_s,
            "--fund",
            &fund(&owner),
            "--fund",
            &fund(&meter),
            "--meter",
            &meter_s,
            "--interval",
            "10",
        ],
        &[&owner, &meter],
        &format!(
            "datadir = \"data\"\nmine = true\nunlock = [\"{}\", \"{}\"]\npassword = \"pw.txt\"\n\n\
             [meter]\naccount = \"{}\"\ninterval = 10\n\n[[meter.sensor]]\n{sensor}",
            owner.address(),
            meter.address(),
            meter.address(),
        ),
    );
    (config, meter.address())
}

/// Imports `keys` into the keystore of `data` (password `pw` in `dir/pw.txt`).
pub fn import_keys(
    dir: &TempDir,
    data: &std::path::Path,
    keys: &[&daisee_node::primitives::PrivateKey],
) {
    std::fs::write(dir.path().join("pw.txt"), "pw\n").unwrap();
    for (i, key) in keys.iter().enumerate() {
        let file = dir.path().join(format!("key{i}.hex"));
        std::fs::write(&file, hex::encode(key.to_bytes())).unwrap();
        let password = dir.path().join("pw.txt");
        daisee_ok(&[
            "account",
            "import",
            file.to_str().unwrap(),
            "--datadir",
            data.to_str().unwrap(),
            "--password",
            password.to_str().unwrap(),
        ]);
    }
}

pub fn reported(node: &NodeProcess, meter: Address) -> Vec<Reading> {
    let topic = Daisee::Reading::SIGNATURE_HASH;
    let logs = node.ok(
        "eth_getLogs",
        json!([{"address": DAISEE_ADDRESS, "fromBlock": "0x0", "toBlock": "latest",
                "topics": [topic, meter.into_word()]}]),
    );
    logs.as_array()
        .unwrap()
        .iter()
        .map(|log: &Value| {
            let data = hex::decode(log["data"].as_str().unwrap().trim_start_matches("0x")).unwrap();
            let word = |i: usize| U256::from_be_slice(&data[32 * i..32 * (i + 1)]).to::<u64>();
            Reading { interval_end: word(0), produced_wh: word(1), consumed_wh: word(2) }
        })
        .collect()
}

#[test]
fn kill_9_at_random_moments_loses_and_repeats_no_interval() {
    let dir = TempDir::new("meters-crash");
    // 06:00 UTC on 2026-06-21; ten simulated hours at 1200x take 30 s of running.
    let (start, interval, hours) = (1_782_021_600u64, 60u64, 10u64);
    let until = start + hours * 3600;
    let (start_arg, interval_arg) = (start.to_string(), interval.to_string());
    let args = [
        "dev",
        "--datadir",
        dir.str(),
        "--dev.meter-speed",
        "1200",
        "--dev.meter-interval",
        &interval_arg,
        "--dev.meter-start",
        &start_arg,
    ];
    let kill_after_ms = [1300u64, 2900, 700, 4100, 2200, 3300, 1800, 500];
    let mut kills = 0;
    let deadline = Instant::now() + Duration::from_secs(600);
    let node = loop {
        let mut node = NodeProcess::start(&args);
        let done = households().iter().all(|m| last_interval(&node, *m) >= until);
        if done {
            break node;
        }
        assert!(Instant::now() < deadline, "ten simulated hours did not pass");
        match kill_after_ms.get(kills) {
            Some(ms) => {
                std::thread::sleep(Duration::from_millis(*ms));
                node.kill();
                kills += 1;
            }
            None => {
                while households().iter().any(|m| last_interval(&node, *m) < until) {
                    assert!(Instant::now() < deadline, "ten simulated hours did not pass");
                    std::thread::sleep(Duration::from_millis(500));
                }
                break node;
            }
        }
    };
    assert_eq!(kills, kill_after_ms.len());
    let got: Vec<Vec<Reading>> = households().iter().map(|m| reported(&node, *m)).collect();
    let last = got.iter().filter_map(|g| g.last()).map(|r| r.interval_end).max().unwrap();
    let expected = expected_readings(start, interval, last);
    for ((meter, expected), got) in households().into_iter().zip(expected).zip(got) {
        let ends: Vec<u64> = got.iter().map(|r| r.interval_end).collect();
        assert!(
            ends.windows(2).all(|w| w[1] == w[0] + interval),
            "every interval once, in order: {ends:?}"
        );
        assert!(got.len() as u64 >= hours * 3600 / interval, "{} readings", got.len());
        assert_eq!(got[..], expected[..got.len()], "meter {meter}: readings equal the simulation");
    }
    assert!(node.terminate());
}

#[test]
fn a_report_that_reverts_stays_in_the_outbox_until_the_meter_is_registered() {
    let dir = TempDir::new("meters-revert");
    let (owner, meter) = (dev_key(0), dev_key(5));
    let fund =
        |k: &daisee_node::primitives::PrivateKey| format!("{}=1000000000000000000000", k.address());
    let (owner_s, fund_owner, fund_meter) =
        (owner.address().to_string(), fund(&owner), fund(&meter));
    let config = board(
        &dir,
        &["--networkid", "4747", "--period", "0", "--signer", &owner_s, "--fund", &fund_owner, "--fund", &fund_meter, "--interval", "60"],
        &[&owner, &meter],
        &format!(
            "datadir = \"data\"\nmine = true\nunlock = [\"{}\", \"{}\"]\npassword = \"pw.txt\"\n\n\
             [meter]\naccount = \"{}\"\ninterval = 60\n\n\
             [[meter.sensor]]\ndirection = \"consumption\"\nsource = \"sim\"\nprofile = {{ kind = \"load\", base_w = 400 }}\nseed = 5\nspeed = 120\nstart = {}\n",
            owner.address(), meter.address(), meter.address(),
            // Six hours back: at 120x the readings stay in the past of this wall-clock chain for
            // three minutes (a reading's interval may not end after its block).
            daisee_node::node::unix_now() - 6 * 3600
        ),
    );
    let node = NodeProcess::start(&["run", "--config", config.to_str().unwrap(), "--http"]);
    let status = |node: &NodeProcess| node.ok("daisee_meters", json!([]))[0].clone();
    let deadline = Instant::now() + Duration::from_secs(60);
    while status(&node)["reverts"].as_u64().unwrap_or(0) == 0 {
        assert!(Instant::now() < deadline, "no revert seen: {}", status(&node));
        std::thread::sleep(Duration::from_millis(300));
    }
    let s = status(&node);
    assert!(s["lastError"].as_str().unwrap().contains("NotMeter"), "{s}");
    assert!(s["outbox"].as_u64().unwrap() >= 1, "the reading is kept: {s}");
    assert_eq!(last_interval(&node, meter.address()), 0);

    let add = Daisee::addMeterCall { meter: meter.address() }.abi_encode();
    let tx = signed(&owner, 4747, 0, DAISEE_ADDRESS, U256::ZERO, add.into(), 200_000);
    node.ok("eth_sendRawTransaction", json!([raw(&tx)]));
    assert_eq!(node.wait_receipt(&tx.hash(), Duration::from_secs(30))["status"], json!("0x1"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while status(&node)["confirmed"].as_u64().unwrap_or(0) == 0 {
        assert!(Instant::now() < deadline, "kept readings never landed: {}", status(&node));
        std::thread::sleep(Duration::from_millis(300));
    }
    let got = reported(&node, meter.address());
    let ends: Vec<u64> = got.iter().map(|r| r.interval_end).collect();
    assert!(
        ends.windows(2).all(|w| w[1] == w[0] + 60),
        "no interval lost to the reverts: {ends:?}"
    );
    assert!(got[0].interval_end <= status(&node)["lastConfirmedInterval"].as_u64().unwrap());
    assert!(node.terminate());
}

#[test]
fn meter_target_sends_the_2016_calls_to_an_external_chain() {
    // The "external" chain: a dev node without its own households.
    let external = NodeProcess::start(&["dev", "--dev.no-meters"]);
    let dir = TempDir::new("meters-target");
    let meter = dev_key(6);
    let meter_s = meter.address().to_string();
    let config = board(
        &dir,
        &["--networkid", "4848", "--signer", &meter_s],
        &[&meter],
        &format!(
            "datadir = \"data\"\nunlock = \"{0}\"\npassword = \"pw.txt\"\n\n\
             [meter]\naccount = \"{0}\"\ninterval = 60\nabi = \"v1\"\n\n\
             [[meter.sensor]]\ndirection = \"production\"\nsource = \"sim\"\nprofile = {{ kind = \"solar\", peak_w = 3000 }}\nseed = 1\nspeed = 600\nstart = 1782043200\n\n\
             [[meter.sensor]]\ndirection = \"consumption\"\nsource = \"sim\"\nprofile = {{ kind = \"load\", base_w = 300 }}\nseed = 2\nspeed = 600\nstart = 1782043200\n",
            meter.address()
        ),
    );
    let target = format!("http://{}", external.rpc);
    let board = NodeProcess::start(&[
        "run",
        "--config",
        config.to_str().unwrap(),
        "--http",
        "--meter-target",
        &target,
    ]);
    let deadline = Instant::now() + Duration::from_secs(90);
    while board.ok("daisee_meters", json!([]))[0]["confirmed"].as_u64().unwrap_or(0) < 4 {
        assert!(Instant::now() < deadline, "{}", board.ok("daisee_meters", json!([])));
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(production(&external, meter.address()) > U256::ZERO);
    assert!(consumption(&external, meter.address()) > U256::ZERO);
    assert_eq!(last_interval(&external, meter.address()), 0, "v1 sends no reportReading");
    let prod_topic = Daisee::Prod::SIGNATURE_HASH;
    let logs = external.ok("eth_getLogs", json!([{"address": DAISEE_ADDRESS, "fromBlock": "0x0", "toBlock": "latest", "topics": [prod_topic]}]));
    assert!(!logs.as_array().unwrap().is_empty(), "setProduction emitted Prod");
    assert_eq!(
        board.ok("eth_blockNumber", json!([])),
        json!("0x0"),
        "nothing went to the board's own chain"
    );
    assert!(board.terminate());
}
