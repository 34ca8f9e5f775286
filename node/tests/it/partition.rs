//! A partition: three boards in their own network namespaces; bf7-3 is cut off the bridge while
//! it holds a new transaction, both sides seal, the link comes back, and everyone converges on
//! the heavier chain, the transaction accepted on the losing side ending up in it.

use crate::lab::Lab;
use crate::support::*;
use serde_json::json;
use std::time::{Duration, Instant};

const BOARDS: [(&str, &str); 3] = [
    ("bf7-1", "0xAbE92107801E1aE2f830399e5c37761DB76e7C44"),
    ("bf7-2", "0x1ff7258643fb8Db2945cFE042552D4646CC37e23"),
    ("bf7-3", "0xf019ff7bcb93d051AD74D14BEaB24711591cc32c"),
];

fn head_of(node: &NodeProcess) -> (u64, serde_json::Value) {
    let b = node.ok("eth_getBlockByNumber", json!(["latest", false]));
    (quantity(&b["number"]), b["hash"].clone())
}

#[test]
fn a_partitioned_board_rejoins_the_heavier_chain_and_keeps_its_transaction() {
    let lab = Lab::new(8, 3);
    let dirs: Vec<TempDir> =
        BOARDS.iter().map(|(b, _)| TempDir::new(&format!("part-{b}"))).collect();
    let mut nodes: Vec<NodeProcess> = Vec::new();
    let mut p2p: Vec<String> = Vec::new();
    for (i, (board, address)) in BOARDS.iter().enumerate() {
        daisee_ok(&["init", "../genesis/bf7.json", "--datadir", dirs[i].str()]);
        let (ns, host) = lab.host(i);
        let (keystore, password) =
            (format!("../config/{board}/keystore"), format!("../config/{board}/password.txt"));
        let bootnodes = p2p.join(",");
        let mut args = vec![
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
            "--port",
            "0",
            "--p2p.addr",
            &host,
            "--http",
            "--http.addr",
            &host,
            // The test pays over HTTP on the namespace's address, reachable only inside the lab.
            "--allow-insecure-unlock",
        ];
        if !bootnodes.is_empty() {
            args.extend(["--bootnodes", &bootnodes]);
        }
        let node = NodeProcess::start_in(ns, &args);
        p2p.push(node.line("p2p: "));
        nodes.push(node);
    }
    let wait_agree = |nodes: &[&NodeProcess], min: u64| {
        let start = Instant::now();
        loop {
            let heads: Vec<(u64, serde_json::Value)> = nodes.iter().map(|n| head_of(n)).collect();
            if heads.iter().all(|(n, _)| *n >= min) && heads.windows(2).all(|w| w[0] == w[1]) {
                return heads[0].0;
            }
            assert!(start.elapsed() < Duration::from_secs(90), "no agreement: {heads:?}");
            std::thread::sleep(Duration::from_millis(250));
        }
    };
    wait_agree(&[&nodes[0], &nodes[1], &nodes[2]], 2);

    // Cut bf7-3 off; it takes a transaction that only it knows about.
    lab.plug(2, false);
    let (ns3, host3) = lab.host(2);
    let url = format!("http://{}", nodes[2].rpc);
    assert!(nodes[2].rpc.starts_with(&host3));
    let send = format!(
        r#"eth_sendTransaction [{{"from": "{}", "to": "0x0000000000000000000000000000000000000077", "value": "0x1"}}]"#,
        BOARDS[2].1
    );
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", ns3, env!("CARGO_BIN_EXE_daisee"), "attach", &url, "--exec", &send])
        .output()
        .unwrap();
    let answer = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(answer.starts_with("\"0x"), "bf7-3 refused the transaction: {answer}");
    let tx: String = serde_json::from_str(&answer).unwrap();
    // Both sides seal for a while: bf7-1 and bf7-2 keep going, bf7-3 alone can add at most one.
    std::thread::sleep(Duration::from_secs(16));
    let (majority, _) = head_of(&nodes[0]);

    // Heal: everyone converges on the heavier chain, and the transaction is in it.
    lab.plug(2, true);
    wait_agree(&[&nodes[0], &nodes[1]], majority + 1);
    let start = Instant::now();
    loop {
        let heads: Vec<_> = nodes.iter().map(head_of).collect();
        if heads.windows(2).all(|w| w[0] == w[1]) && heads[0].0 > majority {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(90), "bf7-3 did not rejoin: {heads:?}");
        std::thread::sleep(Duration::from_millis(250));
    }
    let hash: daisee_node::primitives::B256 = tx.parse().unwrap();
    let receipt = nodes[0].wait_receipt(&hash, Duration::from_secs(90));
    assert_eq!(receipt["status"], json!("0x1"));
    assert_eq!(
        nodes[0]
            .ok("eth_getBalance", json!(["0x0000000000000000000000000000000000000077", "latest"])),
        json!("0x1")
    );
}
