//! Boards find each other from any one they know (peer exchange, a remembered peer book):
//! - the seed's three signers on loopback, 2 and 3 told only of 1: with 1 stopped they are still
//!   connected to each other and the chain keeps sealing; 1 comes back and rejoins;
//! - ten boards in network namespaces, each told only of the previous one: within a minute every
//!   board is connected to boards covering all signers; all restarted with the bootnode down,
//!   they reconnect from their peer books;
//! - a board of another community that learns of ours is refused and not passed on.

use crate::lab::Lab;
use crate::network::{agree, head, ADDRESSES, BOARDS};
use crate::support::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

/// A bf7 board (`signer`: one of the three, else a follower) with `admin` on HTTP.
fn board_args(signer: Option<usize>, dir: &TempDir, bootnodes: &[String]) -> Vec<String> {
    let mut args: Vec<String> =
        ["run", "--datadir", dir.str(), "--networkid", "69", "--seal-empty", "--http"]
            .into_iter()
            .map(String::from)
            .collect();
    args.extend(["--http.api", "eth,net,web3,clique,admin,daisee"].map(String::from));
    if let Some(i) = signer {
        args.extend([
            "--mine".into(),
            "--unlock".into(),
            ADDRESSES[i].into(),
            "--password".into(),
            format!("../config/{}/password.txt", BOARDS[i]),
            "--keystore".into(),
            format!("../config/{}/keystore", BOARDS[i]),
        ]);
    }
    if !bootnodes.is_empty() {
        args.push("--bootnodes".into());
        args.push(bootnodes.join(","));
    }
    args
}

fn start(args: &[String]) -> NodeProcess {
    NodeProcess::start(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn start_in(ns: &str, args: &[String]) -> NodeProcess {
    NodeProcess::start_in(ns, &args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn peers(node: &NodeProcess) -> Vec<Value> {
    node.ok("admin_peers", json!([])).as_array().cloned().unwrap_or_default()
}

/// The signers a board reaches: its own and its verified peers'.
fn signers_covered(node: &NodeProcess, own: Option<usize>) -> BTreeSet<String> {
    let mut set: BTreeSet<String> =
        peers(node).iter().filter_map(|p| p["signer"].as_str().map(str::to_lowercase)).collect();
    if let Some(i) = own {
        set.insert(ADDRESSES[i].to_lowercase());
    }
    set
}

fn init(name: &str) -> TempDir {
    let dir = TempDir::new(name);
    daisee_ok(&["init", "../genesis/bf7.json", "--datadir", dir.str()]);
    dir
}

#[test]
fn one_bootnode_is_enough_and_the_chain_outlives_it() {
    let dirs: Vec<TempDir> = (0..3).map(|i| init(&format!("disc-{i}"))).collect();
    let loopback = |mut args: Vec<String>| {
        args.extend(["--port", "0", "--p2p.addr", "127.0.0.1"].map(String::from));
        args
    };
    let n1 = start(&loopback(board_args(Some(0), &dirs[0], &[])));
    let p1 = n1.line("p2p: ");
    let n2 = start(&loopback(board_args(Some(1), &dirs[1], std::slice::from_ref(&p1))));
    let n3 = start(&loopback(board_args(Some(2), &dirs[2], std::slice::from_ref(&p1))));
    // 2 and 3 were told only of 1; they learn of each other from it.
    wait_for("boards 2 and 3 connected to each other", Duration::from_secs(60), || {
        peers(&n2).len() == 2 && peers(&n3).len() == 2
    });
    let all: BTreeSet<String> = ADDRESSES.iter().map(|a| a.to_lowercase()).collect();
    assert_eq!(signers_covered(&n2, Some(1)), all, "{:?}", peers(&n2));
    agree(&[&n1, &n2, &n3], 2, Duration::from_secs(60));
    // What the dashboard's Chain view lists: who and how far, no addresses.
    let listed = n2.ok("daisee_peers", json!([]));
    let listed = listed.as_array().expect("peers");
    assert_eq!(listed.len(), 2);
    assert!(
        listed.iter().all(|p| p["signer"].is_string() && p.get("remoteAddress").is_none()),
        "{listed:?}"
    );

    // Board 1 stops: 2 and 3 stay connected and keep sealing (two of three signers).
    assert!(n1.terminate());
    wait_for("2 and 3 see each other only", Duration::from_secs(20), || {
        peers(&n2).len() == 1 && peers(&n3).len() == 1
    });
    let (before, _) = head(&n2);
    agree(&[&n2, &n3], before + 3, Duration::from_secs(60));

    // Board 1 comes back with no bootnode (on a new port): its peer book finds them.
    let n1 = start(&loopback(board_args(Some(0), &dirs[0], &[])));
    let (now, _) = head(&n2);
    agree(&[&n1, &n2, &n3], now + 1, Duration::from_secs(60));
    assert_eq!(peers(&n1).len(), 2);
    let book: Value = serde_json::from_str(
        &std::fs::read_to_string(dirs[0].path().join("daisee/peers.json")).expect("peers.json"),
    )
    .expect("JSON");
    assert!(book.as_object().is_some_and(|m| m.len() >= 2), "{book}");
    let info = n1.ok("admin_nodeInfo", json!([]));
    assert!(info["enode"].as_str().is_some_and(|e| e.starts_with("enode://")), "{info}");
    // admin_addPeer: a malformed URL is refused with a clear error.
    let err = n1.call("admin_addPeer", json!(["enode://nothing"])).expect_err("refused");
    assert!(format!("{err:?}").contains("invalid params"), "{err:?}");
    assert_eq!(n1.ok("admin_addPeer", json!([p1_of(&n2)])), json!(true));
    // admin over HTTP never writes files on the board.
    let err = n1.call("admin_backup", json!(["/tmp/daisee-never.backup"])).expect_err("refused");
    assert!(format!("{err:?}").contains("IPC only"), "{err:?}");
    assert!(!std::path::Path::new("/tmp/daisee-never.backup").exists());
}

fn p1_of(node: &NodeProcess) -> String {
    node.line("p2p: ")
}

#[test]
fn ten_boards_in_a_chain_find_every_signer_and_come_back_from_their_books() {
    const N: usize = 10;
    let lab = Lab::new(11, N);
    let dirs: Vec<TempDir> = (0..N).map(|i| init(&format!("ten-{i}"))).collect();
    // Boards 1, 5 and 9 seal (the seed's three signers); the others follow.
    let signer_of = |i: usize| match i {
        1 => Some(0),
        5 => Some(1),
        9 => Some(2),
        _ => None,
    };
    let args = |i: usize, bootnodes: &[String]| {
        let (_, ip) = lab.host(i);
        let mut a = board_args(signer_of(i), &dirs[i], bootnodes);
        a.extend(["--port", "30303", "--p2p.addr", &ip, "--http.addr", &ip].map(String::from));
        a
    };
    let mut nodes: Vec<NodeProcess> = Vec::new();
    let mut previous: Vec<String> = vec![];
    for i in 0..N {
        let node = start_in(lab.host(i).0, &args(i, &previous));
        previous = vec![node.line("p2p: ")];
        nodes.push(node);
    }
    let all: BTreeSet<String> = ADDRESSES.iter().map(|a| a.to_lowercase()).collect();
    wait_for("every board reaches every signer", Duration::from_secs(60), || {
        (0..N).all(|i| signers_covered(&nodes[i], signer_of(i)) == all)
    });
    let refs: Vec<&NodeProcess> = nodes.iter().collect();
    agree(&refs, 3, Duration::from_secs(60));
    for node in &nodes {
        assert!(peers(node).len() <= 25, "bounded");
    }

    // Everyone stops; all but the bootnode (board 0) come back with no bootnode at all.
    for node in nodes.drain(..) {
        assert!(node.terminate());
    }
    let back: Vec<NodeProcess> = (1..N).map(|i| start_in(lab.host(i).0, &args(i, &[]))).collect();
    wait_for("every board reconnects from its book", Duration::from_secs(60), || {
        back.iter().enumerate().all(|(k, n)| {
            let i = k + 1;
            signers_covered(n, signer_of(i)) == all
        })
    });
    let refs: Vec<&NodeProcess> = back.iter().collect();
    let (now, _) = head(&back[0]);
    agree(&refs, now + 2, Duration::from_secs(60));
}

#[test]
fn a_board_of_another_community_is_refused_and_not_passed_on() {
    let dirs: Vec<TempDir> = (0..2).map(|i| init(&format!("ours-{i}"))).collect();
    let loopback = |mut args: Vec<String>| {
        args.extend(["--port", "0", "--p2p.addr", "127.0.0.1"].map(String::from));
        args
    };
    let a = start(&loopback(board_args(Some(0), &dirs[0], &[])));
    let pa = a.line("p2p: ");
    let b = start(&loopback(board_args(Some(1), &dirs[1], std::slice::from_ref(&pa))));
    wait_for("a and b connected", Duration::from_secs(30), || peers(&a).len() == 1);
    let foreign_dir = TempDir::new("foreign");
    daisee_ok(&["init", "../genesis/dev.json", "--datadir", foreign_dir.str()]);
    let foreign = start(&loopback(
        [
            "run",
            "--datadir",
            foreign_dir.str(),
            "--http",
            "--http.api",
            "eth,net,admin",
            "--bootnodes",
            &pa,
        ]
        .map(String::from)
        .to_vec(),
    ));
    let foreign_id = node_id(&foreign);
    // Several exchange rounds (10 s each).
    std::thread::sleep(Duration::from_secs(25));
    for (name, node) in [("a", &a), ("b", &b)] {
        assert!(
            peers(node).iter().all(|p| p["id"] != json!(foreign_id)),
            "{name} is not connected to the foreign board"
        );
    }
    let b_id = node_id(&b);
    assert!(
        peers(&foreign).iter().all(|p| p["id"] != json!(b_id)),
        "the foreign board never learned of b"
    );
    // One of the two saw the other's status first and dropped it (under load, either may).
    let said = |n: &NodeProcess| n.lines().iter().any(|l| l.contains("another chain"));
    assert!(said(&a) || said(&foreign), "the mismatch was logged");
    for dir in &dirs {
        let text =
            std::fs::read_to_string(dir.path().join("daisee/peers.json")).unwrap_or_default();
        assert!(!text.contains(&foreign_id), "the foreign board is not remembered: {text}");
    }
    let text =
        std::fs::read_to_string(foreign_dir.path().join("daisee/peers.json")).unwrap_or_default();
    assert!(!text.contains(&b_id), "nor does it remember ours beyond its bootnode: {text}");
}

/// A node's peer id, once its network listens.
fn node_id(node: &NodeProcess) -> String {
    let mut id = None;
    wait_for("the network listens", Duration::from_secs(30), || {
        id = node
            .call("admin_nodeInfo", json!([]))
            .ok()
            .and_then(|i| i["id"].as_str().map(String::from));
        id.is_some()
    });
    id.unwrap_or_default()
}
