//! Attacks of a web page the household opens in its own browser, on a running node over real
//! sockets: a WebSocket from another site (browsers send its `Origin`; CORS does not apply), a
//! DNS-rebinding page (its own name in `Host`), a cross-site POST, a page of a site allowed to
//! read (`--ws.origins '*'`) that tries to spend, and an unlocked account behind a server
//! listening beyond loopback. Each is refused with a clear error and nothing moves.

use crate::lab::Lab;
use crate::support::*;
use serde_json::{json, Value};
use std::io::{Read, Write};
use tungstenite::client::IntoClientRequest;

/// Opens a WebSocket to `rpc` with `origin` (if any): the socket, or the HTTP status refused.
fn websocket(
    rpc: &str,
    origin: Option<&str>,
) -> Result<tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>, u16> {
    let mut request = format!("ws://{rpc}").into_client_request().unwrap();
    if let Some(o) = origin {
        request.headers_mut().insert("Origin", o.parse().unwrap());
    }
    match tungstenite::connect(request) {
        Ok((socket, _)) => Ok(socket),
        Err(tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(e) => panic!("websocket to {rpc}: {e}"),
    }
}

fn ws_call(
    socket: &mut tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>,
    method: &str,
    params: Value,
) -> Value {
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    socket.send(tungstenite::Message::Text(request.to_string().into())).unwrap();
    loop {
        if let tungstenite::Message::Text(text) = socket.read().unwrap() {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

/// A raw HTTP/1.1 POST with the headers given; returns status and body.
fn post_with(addr: &str, headers: &str, body: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}

fn send_tx_body(from: &str) -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": "eth_sendTransaction",
           "params": [{"from": from, "to": "0x00000000000000000000000000000000000000aa", "value": "0xde0b6b3a7640000"}]})
    .to_string()
}

/// Balance of `address` and the pool's size, to show that nothing moved.
fn state(node: &NodeProcess, address: &str) -> (Value, Value) {
    (node.ok("eth_getBalance", json!([address, "latest"])), node.ok("txpool_status", json!([])))
}

#[test]
fn pages_of_other_sites_and_rebinding_hosts_are_refused_on_dev() {
    let node = NodeProcess::start(&["dev", "--dev.no-meters"]);
    let rpc = node.rpc.clone();
    let account = format!("{}", dev_key(0).address());
    let before = state(&node, &account);

    // A WebSocket from another site is refused at the handshake.
    assert_eq!(websocket(&rpc, Some("https://evil.example")).err(), Some(403));
    assert_eq!(websocket(&rpc, Some("null")).err(), Some(403), "sandboxed frames too");
    // DNS rebinding: the page's own name arrives in Host.
    let (status, body) = post_with(&rpc, "Host: evil.example:8545\r\n", &send_tx_body(&account));
    assert_eq!((status, body.trim()), (403, "invalid host specified"));
    // A cross-site POST (which a browser may send before any CORS check).
    let (status, body) = post_with(
        &rpc,
        &format!("Host: {rpc}\r\nOrigin: https://evil.example\r\n"),
        &send_tx_body(&account),
    );
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("https://evil.example"), "{body}");
    node.logged("refused a request from a foreign origin", std::time::Duration::from_secs(5));

    // The node's own page, and programs that send no Origin, are served.
    let mut own = websocket(&rpc, Some(&format!("http://{rpc}"))).expect("own origin");
    assert_eq!(ws_call(&mut own, "eth_chainId", json!([]))["result"], "0x7a69");
    let mut program = websocket(&rpc, None).expect("no Origin: not a browser");
    assert_eq!(ws_call(&mut program, "eth_chainId", json!([]))["result"], "0x7a69");
    let (status, body) = post_with(&rpc, "Host: localhost:8545\r\n", &send_tx_body(&account));
    assert_eq!(status, 200, "localhost is a virtual host by default");
    let hash = serde_json::from_str::<Value>(&body).unwrap()["result"].clone();
    node.wait_receipt(&serde_json::from_value(hash).unwrap(), std::time::Duration::from_secs(10));

    // Nothing moved (the last POST above was the one allowed transfer: count it).
    let after = state(&node, &account);
    assert_eq!(after.1, before.1, "the pool is as it was (dev seals at once)");
    let spent = node.ok("eth_getTransactionCount", json!([account, "latest"]));
    assert_eq!(spent, "0x1", "only the localhost request's transfer happened");
}

#[test]
fn a_site_allowed_to_read_cannot_sign() {
    let node = NodeProcess::start(&[
        "dev",
        "--dev.no-meters",
        "--ws.origins",
        "*",
        "--http.vhosts",
        "board.local",
    ]);
    let rpc = node.rpc.clone();
    let account = format!("{}", dev_key(0).address());
    let before = state(&node, &account);
    let mut page = websocket(&rpc, Some("https://evil.example")).expect("reading is allowed");
    assert_eq!(ws_call(&mut page, "eth_blockNumber", json!([]))["result"], "0x0");
    let tx = json!([{"from": account, "to": "0x00000000000000000000000000000000000000aa", "value": "0x1"}]);
    for (method, params) in [
        ("eth_sendTransaction", tx.clone()),
        ("eth_signTransaction", tx),
        ("eth_sign", json!([account, "0xdeadbeef"])),
        ("clique_propose", json!([account, false])),
    ] {
        let answer = ws_call(&mut page, method, params);
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("not offered to pages of other sites"), "{method}: {answer}");
    }
    assert_eq!(state(&node, &account), before, "nothing moved");
    assert!(node.ok("clique_proposals", json!([])).as_object().unwrap().is_empty());
    // --http.vhosts names the board: that name passes, localhost no longer does.
    let (status, _) = post_with(&rpc, "Host: board.local:8545\r\n", &send_tx_body(&account));
    assert_eq!(status, 200);
    let (status, _) = post_with(&rpc, "Host: localhost:8545\r\n", &send_tx_body(&account));
    assert_eq!(status, 403);
}

#[test]
fn unlocked_accounts_are_not_served_beyond_loopback_unless_asked() {
    let lab = Lab::new(9, 1);
    let (ns, host) = lab.host(0);
    let node = NodeProcess::start_in(ns, &["dev", "--dev.no-meters", "--http.addr", &host]);
    let account = format!("{}", dev_key(0).address());
    let before = state(&node, &account);
    for method in ["eth_sendTransaction", "eth_sign"] {
        let params = if method == "eth_sign" {
            json!([account, "0x00"])
        } else {
            json!([{"from": account, "to": "0x00000000000000000000000000000000000000aa", "value": "0x1"}])
        };
        match node.call(method, params) {
            Err(RpcFailure::Error { message, .. }) => {
                assert!(message.contains("--allow-insecure-unlock"), "{method}: {message}")
            }
            other => panic!("{method} should be refused, got {other:?}"),
        }
    }
    assert_eq!(state(&node, &account), before, "nothing moved");
    // The dashboard served there does not offer to pay from the node's accounts either.
    let (status, _, config) = http_get(&node.rpc, "/dashboard/config.json");
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_slice::<Value>(&config).unwrap()["unlockedBuy"], false);
    drop(node);

    let node = NodeProcess::start_in(
        ns,
        &["dev", "--dev.no-meters", "--http.addr", &host, "--allow-insecure-unlock"],
    );
    let hash = node.ok(
        "eth_sendTransaction",
        json!([{"from": account, "to": "0x00000000000000000000000000000000000000aa", "value": "0x1"}]),
    );
    node.wait_receipt(&serde_json::from_value(hash).unwrap(), std::time::Duration::from_secs(10));
}

#[test]
fn subscriptions_are_capped_per_node_across_sockets() {
    let node = NodeProcess::start(&["dev", "--dev.no-meters", "--rpc.subscriptions", "3"]);
    let mut first = websocket(&node.rpc, None).unwrap();
    let mut second = websocket(&node.rpc, None).unwrap();
    for which in [0, 0, 1] {
        let socket = if which == 0 { &mut first } else { &mut second };
        let answer = ws_call(socket, "eth_subscribe", json!(["newHeads"]));
        assert!(answer["result"].is_string() || answer["result"].is_number(), "{answer}");
    }
    let refused = ws_call(&mut second, "eth_subscribe", json!(["newHeads"]));
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("at most 3 subscriptions"), "{refused}");
    // A socket that closes gives its subscriptions back.
    drop(first);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let answer = ws_call(&mut second, "eth_subscribe", json!(["newHeads"]));
        if answer["error"].is_null() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "slots never came back: {answer}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn the_config_file_sets_the_same_doors_and_limits() {
    let dir = TempDir::new("doors-config");
    daisee_ok(&["init", "../genesis/bf7.json", "--datadir", &format!("{}/data", dir.str())]);
    let config = dir.path().join("board.toml");
    std::fs::write(
        &config,
        "datadir = \"data\"\n\n[http]\nenabled = true\nvhosts = [\"board.local\"]\n\n\
         [ws]\norigins = [\"http://app.local\"]\n\n[rpc]\nfeepercentiles = 2\n\n\
         [txpool]\naccountslots = 16\n\n[p2p]\nnetrestrict = [\"10.0.0.0/8\"]\nport = 0\n",
    )
    .unwrap();
    let node = NodeProcess::start(&["run", "--config", config.to_str().unwrap()]);
    let rpc = node.rpc.clone();
    let answer = node.call("eth_feeHistory", json!(["0x1", "latest", [1, 2, 3]]));
    assert!(
        matches!(&answer, Err(RpcFailure::Error { message, .. }) if message.contains("at most 2")),
        "{answer:?}"
    );
    let body =
        json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).to_string();
    assert_eq!(post_with(&rpc, "Host: board.local:8545\r\n", &body).0, 200);
    assert_eq!(post_with(&rpc, "Host: localhost:8545\r\n", &body).0, 403);
    assert!(websocket(&rpc, Some("http://app.local")).is_ok());
    assert_eq!(websocket(&rpc, Some("http://other.local")).err(), Some(403));
    // A typo in a limit's name is refused, not ignored.
    std::fs::write(&config, "datadir = \"data\"\n\n[rpc]\ngascapp = 1\n").unwrap();
    let out = daisee().args(["run", "--config", config.to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("gascapp"));
}
