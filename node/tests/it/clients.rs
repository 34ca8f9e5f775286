//! Real clients, unchanged, over real sockets: ethers v6 and viem (HTTP and WebSocket) deploy and
//! drive a fresh Daisee; web3.py replays the 2016 bridge with `eth_sendTransaction` from an unlocked
//! account and raw calldata. `tests/run` installs both (npm lockfile, pinned PyPI version).

use crate::support::*;
use std::path::Path;
use std::process::Command;

fn clients_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/clients"))
}

fn run_client(mut cmd: Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot start {what}: {e} (run `bash tests/run`, which installs the clients)")
    });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{what} failed:\n{stdout}\n{stderr}");
    eprintln!("{}", stdout.trim());
}

#[test]
fn ethers_v6_deploys_and_drives_daisee_over_http_and_websocket() {
    let dir = clients_dir();
    assert!(
        dir.join("node_modules/ethers").exists(),
        "ethers is not installed: run `npm ci --prefix tests/clients`"
    );
    let node = NodeProcess::start(&["dev"]);
    let mut cmd = Command::new("node");
    cmd.arg(dir.join("ethers-daisee.mjs")).arg(&node.rpc);
    run_client(cmd, "the ethers test");
}

#[test]
fn viem_deploys_writes_reads_and_watches_over_http_and_websocket() {
    let dir = clients_dir();
    assert!(
        dir.join("node_modules/viem").exists(),
        "viem is not installed: run `npm ci --prefix tests/clients`"
    );
    let node = NodeProcess::start(&["dev", "--dev.no-meters"]);
    let mut cmd = Command::new("node");
    cmd.arg(dir.join("viem-daisee.mjs")).arg(&node.rpc);
    run_client(cmd, "the viem test");
}

#[test]
fn web3py_replays_the_2016_bridge_with_an_unlocked_account() {
    let python = std::env::var("DAISEE_CLIENT_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| clients_dir().join(".venv/bin/python"));
    assert!(
        python.exists(),
        "web3.py is not installed: run `bash tests/run` (it makes tests/clients/.venv)"
    );
    let node = NodeProcess::start(&["dev"]);
    let meter = dev_key(1).address().to_string();
    let daisee = daisee_node::community::DAISEE_ADDRESS.to_string();
    let mut cmd = Command::new(python);
    cmd.arg(clients_dir().join("web3py_bridge.py")).args([&node.rpc, &daisee, &meter]);
    run_client(cmd, "the web3.py bridge test");
}
