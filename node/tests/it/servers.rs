//! The RPC servers: IPC with `daisee attach`, namespaces served only when listed, CORS only for
//! the origins given.

use crate::support::*;
use serde_json::json;

#[test]
fn ipc_serves_attach_and_namespaces_follow_the_flags() {
    let dir = TempDir::new("servers");
    let node = NodeProcess::start(&[
        "dev",
        "--dev.no-meters",
        "--datadir",
        dir.str(),
        "--http.api",
        "eth,net",
        "--http.corsdomain",
        "http://example.test",
    ]);
    // Listed namespaces answer, others are unknown methods over HTTP...
    assert_eq!(node.ok("net_version", json!([])), json!("31337"));
    match node.call("txpool_status", json!([])) {
        Err(RpcFailure::Error { code: -32601, .. }) => {}
        other => panic!("txpool must be off over HTTP unless listed: {other:?}"),
    }
    // ...while the IPC socket (local user only) serves every namespace, here through attach.
    let out = daisee_ok(&[
        "attach",
        "--datadir",
        dir.str(),
        "--exec",
        "eth_chainId; txpool_status; clique_getSigners",
    ]);
    assert!(out.contains("\"0x7a69\""), "{out}");
    assert!(out.contains("\"pending\": \"0x0\""), "{out}");
    assert!(out.contains(&dev_key(0).address().to_string().to_lowercase()), "{out}");
    let ipc = dir.path().join("daisee.ipc");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&ipc).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // attach over HTTP too, with a clear error for a bad call.
    let url = format!("http://{}", node.rpc);
    let out = daisee_ok(&["attach", &url, "--exec", "eth_getBalance [\"0x12\"]"]);
    assert!(out.starts_with("error:"), "{out}");
    // and over WebSocket, on the same port as HTTP.
    let ws = format!("ws://{}", node.rpc);
    let out = daisee_ok(&["attach", &ws, "--exec", "eth_chainId; net_version"]);
    assert!(out.contains("\"0x7a69\"") && out.contains("\"31337\""), "{out}");
    assert!(node.terminate());
    assert!(!ipc.exists(), "the socket is removed at shutdown");
}

#[test]
fn cors_headers_only_for_listed_origins() {
    let node = NodeProcess::start(&["dev", "--http.corsdomain", "http://example.test"]);
    let preflight = |origin: &str| {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&node.rpc).unwrap();
        let req = format!(
            "OPTIONS / HTTP/1.1\r\nHost: {}\r\nOrigin: {origin}\r\nAccess-Control-Request-Method: POST\r\nConnection: close\r\n\r\n",
            node.rpc
        );
        s.write_all(req.as_bytes()).unwrap();
        let mut r = String::new();
        s.read_to_string(&mut r).unwrap();
        r.to_lowercase()
    };
    assert!(preflight("http://example.test")
        .contains("access-control-allow-origin: http://example.test"));
    assert!(!preflight("http://evil.test").contains("access-control-allow-origin"));
}

#[test]
fn account_import_new_and_list() {
    let dir = TempDir::new("accounts");
    let password = dir.path().join("pw.txt");
    std::fs::write(&password, "secret\n").unwrap();
    let keyfile = dir.path().join("key.hex");
    std::fs::write(&keyfile, hex::encode(dev_key(7).to_bytes())).unwrap();
    let args = [
        "account",
        "import",
        keyfile.to_str().unwrap(),
        "--datadir",
        dir.str(),
        "--password",
        password.to_str().unwrap(),
    ];
    let out = daisee_ok(&args);
    assert!(out.contains(&dev_key(7).address().to_string()), "{out}");
    let again = daisee().args(args).output().unwrap();
    assert!(!again.status.success(), "importing twice is refused");
    daisee_ok(&[
        "account",
        "new",
        "--datadir",
        dir.str(),
        "--password",
        password.to_str().unwrap(),
    ]);
    let list = daisee_ok(&["account", "list", "--datadir", dir.str()]);
    assert_eq!(list.lines().count(), 2, "{list}");
    assert!(list.contains(&dev_key(7).address().to_string()), "{list}");
}
