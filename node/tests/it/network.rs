//! Several boards, one chain: the seed's three signers, each its own process, datadir and ports
//! on loopback, connected through static peers (bootnodes); they agree on one head, keep sealing
//! when one is killed, and the killed one catches up when it comes back. A node with another
//! genesis is refused.

use crate::support::*;
use serde_json::json;
use std::time::{Duration, Instant};

pub const BOARDS: [&str; 3] = ["bf7-1", "bf7-2", "bf7-3"];
pub const ADDRESSES: [&str; 3] = [
    "0xAbE92107801E1aE2f830399e5c37761DB76e7C44",
    "0x1ff7258643fb8Db2945cFE042552D4646CC37e23",
    "0xf019ff7bcb93d051AD74D14BEaB24711591cc32c",
];

pub fn board(i: usize, dir: &TempDir, bootnodes: &[String]) -> NodeProcess {
    let keystore = format!("../config/{}/keystore", BOARDS[i]);
    let password = format!("../config/{}/password.txt", BOARDS[i]);
    board_with(ADDRESSES[i], &keystore, &password, dir, bootnodes)
}

/// A signer process on loopback with the clique namespace served.
pub fn board_with(
    address: &str,
    keystore: &str,
    password: &str,
    dir: &TempDir,
    bootnodes: &[String],
) -> NodeProcess {
    let mut args: Vec<String> = [
        "run",
        "--datadir",
        dir.str(),
        "--networkid",
        "69",
        "--mine",
        "--unlock",
        address,
        "--password",
        password,
        "--keystore",
        keystore,
        "--seal-empty",
        "--http",
        "--http.api",
        "eth,net,web3,clique",
        "--port",
        "0",
        "--p2p.addr",
        "127.0.0.1",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    if !bootnodes.is_empty() {
        args.push("--bootnodes".into());
        args.push(bootnodes.join(","));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    NodeProcess::start(&args)
}

pub fn head(node: &NodeProcess) -> (u64, String) {
    let block = node.ok("eth_getBlockByNumber", json!(["latest", false]));
    (quantity(&block["number"]), block["hash"].as_str().unwrap().to_string())
}

/// Waits until every node has a head at least `min` and they agree on block `min`'s hash.
pub fn agree(nodes: &[&NodeProcess], min: u64, timeout: Duration) {
    let start = Instant::now();
    loop {
        let heads: Vec<(u64, String)> = nodes.iter().map(|n| head(n)).collect();
        if heads.iter().all(|(n, _)| *n >= min) {
            let at: Vec<serde_json::Value> = nodes
                .iter()
                .map(|n| {
                    n.ok("eth_getBlockByNumber", json!([format!("{min:#x}"), false]))["hash"]
                        .clone()
                })
                .collect();
            if at.windows(2).all(|w| w[0] == w[1]) {
                return;
            }
        }
        assert!(start.elapsed() < timeout, "no agreement on block {min}: {heads:?}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn three_boards_agree_keep_sealing_without_one_and_resync_it() {
    let dirs: Vec<TempDir> = BOARDS.iter().map(|b| TempDir::new(b)).collect();
    for dir in &dirs {
        daisee_ok(&["init", "../genesis/bf7.json", "--datadir", dir.str()]);
    }
    let n1 = board(0, &dirs[0], &[]);
    let p1 = n1.line("p2p: ");
    let n2 = board(1, &dirs[1], std::slice::from_ref(&p1));
    let p2 = n2.line("p2p: ");
    let mut n3 = board(2, &dirs[2], &[p1.clone(), p2.clone()]);
    assert!(n1.line("enode: ").starts_with("enode://"));

    // Period 5 s: a few blocks, the same on all three.
    agree(&[&n1, &n2, &n3], 3, Duration::from_secs(60));
    assert_eq!(n1.ok("net_peerCount", json!([])), json!("0x2"));
    assert_eq!(n1.ok("net_listening", json!([])), json!(true));
    let signers = n1.ok("eth_getBlockByNumber", json!(["0x2", false]));
    assert!(signers["proofOfAuthorityData"].is_string());

    // Unplug bf7-3: the two others keep sealing (two of three may alternate).
    n3.kill();
    let (before, _) = head(&n1);
    agree(&[&n1, &n2], before + 2, Duration::from_secs(60));

    // Plug it back: it catches up from its peers and seals again.
    let mut n3 = board(2, &dirs[2], &[p1.clone(), p2.clone()]);
    let (now, _) = head(&n1);
    agree(&[&n1, &n2, &n3], now + 1, Duration::from_secs(60));

    // Unplug two: a lone signer of three may seal at most one block in two, so the chain stops.
    let mut n2 = n2;
    n2.kill();
    n3.kill();
    std::thread::sleep(Duration::from_secs(11));
    let (stalled, _) = head(&n1);
    std::thread::sleep(Duration::from_secs(11));
    assert!(head(&n1).0 <= stalled + 1, "a lone signer must stall");
    // One comes back: sealing resumes.
    let n2 = board(1, &dirs[1], &[p1]);
    agree(&[&n1, &n2], stalled + 2, Duration::from_secs(60));
}

#[test]
fn a_node_of_another_chain_is_refused() {
    let (a, b) = (TempDir::new("chain-a"), TempDir::new("chain-b"));
    daisee_ok(&["init", "../genesis/bf7.json", "--datadir", a.str()]);
    daisee_ok(&["init", "../genesis/dev.json", "--datadir", b.str()]);
    let na = NodeProcess::peer(&a, None);
    let pa = na.line("p2p: ");
    let nb = NodeProcess::peer(&b, Some(&pa));
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(nb.ok("eth_blockNumber", json!([])), json!("0x0"));
    assert_eq!(
        na.ok("net_peerCount", json!([])),
        json!("0x0"),
        "the other chain's node was dropped"
    );
    assert_eq!(nb.ok("net_peerCount", json!([])), json!("0x0"));
}

/// Waits until `node`'s signer set is `expected` (as lower-case addresses, any order).
fn signers_become(node: &NodeProcess, expected: &[String], timeout: Duration) {
    let start = Instant::now();
    loop {
        let signers = node.ok("clique_getSigners", json!([]));
        let mut got: Vec<String> = signers
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_lowercase())
            .collect();
        got.sort();
        let mut want: Vec<String> = expected.iter().map(|s| s.to_lowercase()).collect();
        want.sort();
        if got == want {
            return;
        }
        assert!(start.elapsed() < timeout, "signers {got:?}, expected {want:?}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Waits until a block sealed by `signer` appears after block `after`.
fn seals(node: &NodeProcess, signer: &str, after: u64, timeout: Duration) -> u64 {
    let start = Instant::now();
    let mut next = after + 1;
    loop {
        let (head, _) = head(node);
        while next <= head {
            let by = node.ok("clique_getSigner", json!([format!("{next:#x}")]));
            if by.as_str().unwrap().eq_ignore_ascii_case(signer) {
                return next;
            }
            next += 1;
        }
        assert!(start.elapsed() < timeout, "{signer} sealed nothing after block {after}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn a_fourth_board_is_voted_in_and_a_signer_voted_out() {
    let dirs: Vec<TempDir> = (0..4).map(|i| TempDir::new(&format!("vote-{i}"))).collect();
    for dir in &dirs {
        daisee_ok(&["init", "../genesis/bf7.json", "--datadir", dir.str()]);
    }
    // The fourth board's own key.
    let password = dirs[3].path().join("pw.txt");
    std::fs::write(&password, "fourth\n").unwrap();
    let made = daisee_ok(&[
        "account",
        "new",
        "--datadir",
        dirs[3].str(),
        "--password",
        password.to_str().unwrap(),
    ]);
    let fourth = made.lines().next().unwrap().trim_start_matches("address ").to_string();
    let keystore4 = dirs[3].path().join("keystore");

    let n1 = board(0, &dirs[0], &[]);
    let p1 = n1.line("p2p: ");
    let n2 = board(1, &dirs[1], std::slice::from_ref(&p1));
    let n3 = board(2, &dirs[2], std::slice::from_ref(&p1));
    let n4 = board_with(
        &fourth,
        keystore4.to_str().unwrap(),
        password.to_str().unwrap(),
        &dirs[3],
        std::slice::from_ref(&p1),
    );
    agree(&[&n1, &n2, &n3, &n4], 2, Duration::from_secs(60));

    // Two of three signers vote the fourth board in: it becomes a signer and seals.
    for node in [&n1, &n2] {
        node.ok("clique_propose", json!([fourth, true]));
    }
    let mut four: Vec<String> = ADDRESSES.iter().map(|a| a.to_string()).collect();
    four.push(fourth.clone());
    signers_become(&n4, &four, Duration::from_secs(90));
    let (voted_in_at, _) = head(&n4);
    seals(&n1, &fourth, voted_in_at, Duration::from_secs(90));
    for node in [&n1, &n2] {
        node.ok("clique_discard", json!([fourth]));
    }

    // Three of four vote bf7-3 out: it stops sealing.
    for node in [&n1, &n2, &n4] {
        node.ok("clique_propose", json!([ADDRESSES[2], false]));
    }
    let three: Vec<String> =
        [ADDRESSES[0], ADDRESSES[1], &fourth].iter().map(|a| a.to_string()).collect();
    signers_become(&n1, &three, Duration::from_secs(120));
    let (out_at, _) = head(&n1);
    agree(&[&n1, &n2, &n4], out_at + 3, Duration::from_secs(90));
    for n in out_at + 1..=out_at + 3 {
        let by = n1.ok("clique_getSigner", json!([format!("{n:#x}")]));
        assert!(
            !by.as_str().unwrap().eq_ignore_ascii_case(ADDRESSES[2]),
            "bf7-3 sealed block {n} after being voted out"
        );
    }
    drop(n3);
}

#[test]
fn nodekey_and_nodekeyhex_set_the_identity_as_geths_do() {
    use daisee_node::net::identity;
    let hex = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";
    let key = identity::from_hex(hex, "test").unwrap();
    let expected = identity::enode_id(&identity::keypair(&key));
    let dir = TempDir::new("nodekey");
    daisee_ok(&["init", "../genesis/bf7.json", "--datadir", dir.str()]);
    let file = dir.path().join("provisioned.key");
    std::fs::write(&file, format!("{hex}\n")).unwrap();
    for flags in [["--nodekeyhex", hex], ["--nodekey", file.to_str().unwrap()]] {
        let mut args = vec!["run", "--datadir", dir.str(), "--http", "--port", "0"];
        args.extend(["--p2p.addr", "127.0.0.1"]);
        args.extend(flags);
        let node = NodeProcess::start(&args);
        let enode = node.line("enode: ");
        assert!(enode.starts_with(&format!("enode://{expected}@")), "{flags:?}: {enode}");
        assert!(!dir.path().join("daisee/nodekey").exists(), "no key of its own was made");
    }
    let bad =
        daisee().args(["run", "--datadir", dir.str(), "--nodekeyhex", "zz"]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--nodekeyhex"));
}
