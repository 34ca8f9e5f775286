//! Chain upgrades at a height on a running community: three boards run a London chain (no
//! PUSH0, so not even the Daisee contract runs); the upgrade to Prague at a time a few blocks
//! ahead, with Clique transitions (period, gas limit, empty blocks), is rolled out one board at a
//! time with `daisee init --upgrade`; the chain goes on past the fork with PUSH0 and MCOPY usable,
//! and the board left out stops at the fork with a clear message, banning nobody.

use crate::network::{board, head};
use crate::support::*;
use daisee_node::primitives::{Bytes, Transaction, TxKind, TxType, U256};
use serde_json::{json, Value};
use std::time::Duration;

/// Init code that uses PUSH0 (Shanghai) and MCOPY (Cancun): stores 42 at 0, copies it to 32 and
/// returns memory 32..64.
const PUSH0_MCOPY: &str = "0x602a5f5260205f60205e60206020f3";
/// `rate()` of the Daisee contract, compiled for Shanghai (it uses PUSH0).
const RATE: &str = "0x2c4e722e";
const DAISEE: &str = "0xda15ee0000000000000000000000000000000001";

fn genesis_file(dir: &TempDir, name: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut genesis: Value =
        serde_json::from_str(&std::fs::read_to_string("../genesis/bf7.json").unwrap()).unwrap();
    let config = genesis["config"].as_object_mut().unwrap();
    for fork in ["shanghaiTime", "cancunTime", "pragueTime"] {
        config.remove(fork);
    }
    config["clique"]["period"] = json!(1);
    genesis["alloc"][format!("{:#x}", dev_key(1).address())] =
        json!({ "balance": "0x3635c9adc5dea00000" });
    edit(&mut genesis);
    let path = dir.path().join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&genesis).unwrap()).unwrap();
    path.to_str().unwrap().to_string()
}

fn block(node: &NodeProcess, number: u64) -> Value {
    node.ok("eth_getBlockByNumber", json!([format!("{number:#x}"), false]))
}

fn call(node: &NodeProcess, tx: Value) -> Result<Value, RpcFailure> {
    node.call("eth_call", json!([tx, "latest"]))
}

#[test]
fn a_london_chain_upgrades_to_prague_board_by_board_and_a_board_left_out_stops_at_the_fork() {
    let files = TempDir::new("upgrade-files");
    let london = genesis_file(&files, "london.json", |_| {});
    let dirs: Vec<TempDir> = (0..3).map(|i| TempDir::new(&format!("upgrade-{i}"))).collect();
    for dir in &dirs {
        daisee_ok(&["init", &london, "--datadir", dir.str()]);
    }
    let n0 = board(0, &dirs[0], &[]);
    let p0 = n0.line("p2p: ");
    let n1 = board(1, &dirs[1], std::slice::from_ref(&p0));
    let p1 = n1.line("p2p: ");
    let n2 = board(2, &dirs[2], &[p0.clone(), p1.clone()]);
    let p2 = n2.line("p2p: ");
    crate::network::agree(&[&n0, &n1, &n2], 2, Duration::from_secs(60));

    // London: PUSH0 is an invalid opcode, so neither the test code nor the contract runs.
    assert!(call(&n0, json!({ "data": PUSH0_MCOPY })).is_err());
    assert!(call(&n0, json!({ "to": DAISEE, "data": RATE })).is_err());

    // The community's new genesis file: Prague (with Shanghai and Cancun) 25 s from now, and
    // transitions a few dozen blocks ahead. Same genesis hash: only the future changes.
    let fork_time = daisee_node::node::unix_now() + 25;
    let (h0, _) = head(&n0);
    let (period_at, quiet_at) = (h0 + 35, h0 + 42);
    let prague = genesis_file(&files, "prague.json", |g| {
        let config = &mut g["config"];
        for fork in ["shanghaiTime", "cancunTime", "pragueTime"] {
            config[fork] = json!(fork_time);
        }
        config["clique"]["transitions"] = json!([
            { "block": period_at, "period": 2, "gasLimit": 40_000_000 },
            { "block": quiet_at, "emptyBlocks": false },
        ]);
    });
    // A running board's datadir is locked; the file alone says what it would change.
    let refused = daisee().args(["init", &prague, "--datadir", dirs[2].str()]).output().unwrap();
    assert!(!refused.status.success());

    // Board by board: stop, upgrade, start again.
    let mut n0 = n0;
    n0.kill();
    let dry = daisee().args(["init", &prague, "--datadir", dirs[0].str()]).output().unwrap();
    let says = String::from_utf8_lossy(&dry.stderr).to_string();
    assert!(!dry.status.success() && says.contains("--upgrade"), "{says}");
    assert!(says.contains("pragueTime: unset"), "{says}");
    let out = daisee_ok(&["init", "--upgrade", &prague, "--datadir", dirs[0].str()]);
    assert!(out.contains("upgraded"), "{out}");
    let n0 = board(0, &dirs[0], &[p1.clone(), p2.clone()]);
    let p0 = n0.line("p2p: ");
    let mut n1 = n1;
    n1.kill();
    daisee_ok(&["init", "--upgrade", &prague, "--datadir", dirs[1].str()]);
    let n1 = board(1, &dirs[1], &[p0.clone(), p2.clone()]);

    // The board left out hears of the upgrade from its peers' fork ids before it happens.
    n2.logged("peers schedule an upgrade at time", Duration::from_secs(30));

    // Past the fork: the first Prague block carries the new header fields.
    wait_for("a block past the fork", Duration::from_secs(90), || {
        head(&n0).0 >= period_at && quantity(&block(&n0, head(&n0).0)["timestamp"]) >= fork_time
    });
    let mut fork_block = head(&n0).0;
    while quantity(&block(&n0, fork_block - 1)["timestamp"]) >= fork_time {
        fork_block -= 1;
    }
    let first = block(&n0, fork_block);
    assert!(first["requestsHash"].is_string() && first["withdrawalsRoot"].is_string(), "{first}");
    assert!(block(&n0, fork_block - 1)["requestsHash"].is_null());
    crate::network::agree(&[&n0, &n1], fork_block + 1, Duration::from_secs(30));

    // PUSH0 and MCOPY now run, in a call and in a transaction; so does the Daisee contract.
    let word = format!("0x{:064x}", 42);
    assert_eq!(call(&n0, json!({ "data": PUSH0_MCOPY })).unwrap(), json!(word));
    assert!(call(&n1, json!({ "to": DAISEE, "data": RATE })).is_ok());
    let deploy = Transaction {
        tx_type: TxType::Eip1559,
        chain_id: Some(69),
        nonce: 0,
        max_priority_fee_per_gas: U256::from(1_000_000_000u64),
        max_fee_per_gas: U256::from(10_000_000_000u64),
        gas_limit: 200_000,
        to: TxKind::Create,
        value: U256::ZERO,
        input: Bytes::from(hex::decode(&PUSH0_MCOPY[2..]).unwrap()),
        access_list: vec![],
    }
    .sign(&dev_key(1));
    let hash = deploy.hash();
    n0.ok("eth_sendRawTransaction", json!([raw(&deploy)]));
    let receipt = n0.wait_receipt(&hash, Duration::from_secs(30));
    assert_eq!(receipt["status"], json!("0x1"), "{receipt}");
    let address = receipt["contractAddress"].as_str().unwrap().to_string();
    assert_eq!(n1.ok("eth_getCode", json!([address, "latest"])), json!(word));

    // The board left out did not follow, did not fork off: it stopped below the fork, on the
    // community's chain, and says what to do.
    n2.logged("this board stopped sealing", Duration::from_secs(30));
    let (stopped, hash_there) = head(&n2);
    assert!(stopped < fork_block, "stopped at {stopped}, fork at {fork_block}");
    assert_eq!(block(&n0, stopped)["hash"], json!(hash_there));
    assert!(n2.logged("stopped sealing", Duration::ZERO).contains("init --upgrade"));

    // Transitions: the gas limit set at its block, the period from there on, no empty blocks.
    wait_for("the transitions", Duration::from_secs(90), || head(&n0).0 >= quiet_at - 1);
    assert_eq!(quantity(&block(&n0, period_at)["gasLimit"]), 40_000_000);
    assert_eq!(quantity(&block(&n0, period_at - 1)["gasLimit"]), 30_000_000);
    for n in period_at + 1..quiet_at {
        let gap = quantity(&block(&n0, n)["timestamp"]) - quantity(&block(&n0, n - 1)["timestamp"]);
        assert!(gap >= 2, "block {n} came {gap} s after its parent");
    }
    std::thread::sleep(Duration::from_secs(3));
    let (idle, _) = head(&n0);
    assert_eq!(idle, quiet_at - 1);
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(head(&n0).0, idle, "boards started with --seal-empty follow the chain's rule");
    let transfer =
        signed(&dev_key(1), 69, 1, dev_key(2).address(), U256::from(1), Bytes::new(), 21_000);
    n1.ok("eth_sendRawTransaction", json!([raw(&transfer)]));
    let receipt = n1.wait_receipt(&transfer.hash(), Duration::from_secs(30));
    assert_eq!(quantity(&receipt["blockNumber"]), quiet_at, "the chain waited for work");

    // Nobody was banned for any of it.
    for node in [&n0, &n1, &n2] {
        assert!(node.lines().iter().all(|l| !l.contains("banning")), "a board banned a peer");
    }
}

#[test]
fn upgrade_contract_schedules_this_releases_code_for_init_upgrade() {
    let dir = TempDir::new("upgrade-contract");
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    daisee_ok(&["init", "../genesis/dev.json", "--datadir", data]);
    let out = dir.path().join("upgraded.json");
    let out = out.to_str().unwrap();
    let said =
        daisee_ok(&["upgrade-contract", "../genesis/dev.json", "--block", "10", "--out", out]);
    assert!(said.contains("from block 10"), "{said}");
    let written: Value = serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    let upgrade = &written["config"]["daiseeContractUpgrades"][0];
    assert_eq!(upgrade["address"], json!(DAISEE));
    let code = format!("0x{}", hex::encode(&daisee_contracts::Daisee::DEPLOYED_BYTECODE));
    assert_eq!(upgrade["code"], json!(code));
    // Every board takes it ahead of its head; the genesis is the same chain.
    let taken = daisee_ok(&["init", "--upgrade", out, "--datadir", data]);
    assert!(taken.contains("contract upgrade at block 10"), "{taken}");
    // Scheduling the same code twice, a block 0, a file without the contract: refused.
    for (args, says) in [
        (vec!["upgrade-contract", out, "--block", "12"], "already scheduled"),
        (vec!["upgrade-contract", "../genesis/dev.json", "--block", "0"], "block 0"),
    ] {
        let run = daisee().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&run.stderr).to_string();
        assert!(!run.status.success() && err.contains(says), "{args:?}: {err}");
    }
    let bare = dir.path().join("bare.json");
    let mut genesis: Value =
        serde_json::from_str(&std::fs::read_to_string("../genesis/dev.json").unwrap()).unwrap();
    genesis["alloc"].as_object_mut().unwrap().retain(|k, _| !k.starts_with("0xda15ee"));
    std::fs::write(&bare, genesis.to_string()).unwrap();
    let run = daisee()
        .args(["upgrade-contract", bare.to_str().unwrap(), "--block", "5"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&run.stderr).contains("holds no Daisee contract"));
}
