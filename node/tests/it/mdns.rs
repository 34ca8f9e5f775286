//! LAN discovery: two boards in their own network namespaces, joined by a bridge that this test
//! creates and removes, find each other with `--mdns` alone and agree on the chain. Multicast
//! never leaves the bridge.

use crate::lab::Lab;
use crate::support::*;
use serde_json::json;
use std::time::{Duration, Instant};

#[test]
fn two_boards_find_each_other_with_mdns_in_namespaces() {
    let lab = Lab::new(7, 2);
    let boards = [
        ("bf7-1", "0xAbE92107801E1aE2f830399e5c37761DB76e7C44"),
        ("bf7-2", "0x1ff7258643fb8Db2945cFE042552D4646CC37e23"),
    ];
    let dirs: Vec<TempDir> =
        boards.iter().map(|(b, _)| TempDir::new(&format!("mdns-{b}"))).collect();
    let mut nodes = Vec::new();
    for (i, (board, address)) in boards.iter().enumerate() {
        daisee_ok(&["init", "../genesis/bf7.json", "--datadir", dirs[i].str()]);
        let (ns, host) = lab.host(i);
        let (keystore, password) =
            (format!("../config/{board}/keystore"), format!("../config/{board}/password.txt"));
        nodes.push(NodeProcess::start_in(
            ns,
            &[
                "run",
                "--datadir",
                dirs[i].str(),
                "--mine",
                "--unlock",
                address,
                "--password",
                &password,
                "--keystore",
                &keystore,
                "--seal-empty",
                "--mdns",
                "--port",
                "0",
                "--http",
                "--http.addr",
                &host,
            ],
        ));
    }
    let start = Instant::now();
    loop {
        let peers: Vec<serde_json::Value> =
            nodes.iter().map(|n| n.ok("net_peerCount", json!([]))).collect();
        let heads: Vec<u64> =
            nodes.iter().map(|n| quantity(&n.ok("eth_blockNumber", json!([])))).collect();
        if peers.iter().all(|p| p == "0x1") && heads.iter().all(|h| *h >= 3) {
            let hashes: Vec<serde_json::Value> = nodes
                .iter()
                .map(|n| n.ok("eth_getBlockByNumber", json!(["0x3", false]))["hash"].clone())
                .collect();
            assert_eq!(hashes[0], hashes[1], "both boards hold the same chain");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "no agreement through mDNS: peers {peers:?}, heads {heads:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}
