//! Running `daisee` processes and talking JSON-RPC to them over HTTP on loopback.

use daisee_node::primitives::{
    Address, Bytes, PrivateKey, SignedTransaction, Transaction, TxKind, TxType, B256, U256,
};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `daisee` binary the tests run: the one built with them, or `DAISEE_BIN` (`tests/town`
/// runs a release build of the node under tests built quickly in the dev profile).
pub fn daisee_bin() -> String {
    std::env::var("DAISEE_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_daisee").to_string())
}

/// The `daisee` binary built for these tests.
pub fn daisee() -> Command {
    let mut cmd = Command::new(daisee_bin());
    cmd.env("RUST_LOG", "warn");
    cmd
}

/// Runs `daisee args…` to completion and returns its stdout; panics on failure.
pub fn daisee_ok(args: &[&str]) -> String {
    let out = daisee().args(args).output().expect("run daisee");
    assert!(
        out.status.success(),
        "daisee {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// A fresh folder under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let path =
            std::env::temp_dir().join(format!("daisee-it-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn str(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running node process with its RPC address.
pub struct NodeProcess {
    pub child: Child,
    pub rpc: String,
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl NodeProcess {
    /// Starts `daisee <args> --http.port 0` and waits for its `rpc:` line.
    pub fn start(args: &[&str]) -> Self {
        let mut cmd = daisee();
        cmd.args(args);
        Self::spawn(cmd)
    }

    /// Starts `daisee <args> --http.port 0` with extra environment variables.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut cmd = daisee();
        cmd.args(args).envs(env.iter().copied());
        Self::spawn(cmd)
    }

    /// Starts a non-sealing `daisee run` on `datadir` with HTTP and p2p on loopback (free
    /// ports), connecting to `bootnode` if given.
    pub fn peer(datadir: &TempDir, bootnode: Option<&str>) -> Self {
        let mut args = vec![
            "run",
            "--datadir",
            datadir.str(),
            "--http",
            "--port",
            "0",
            "--p2p.addr",
            "127.0.0.1",
        ];
        if let Some(b) = bootnode {
            args.extend(["--bootnodes", b]);
        }
        Self::start(&args)
    }

    /// Starts `daisee <args>` inside network namespace `ns` (`ip netns exec`).
    pub fn start_in(ns: &str, args: &[&str]) -> Self {
        Self::start_in_with_env(ns, args, &[])
    }

    /// [`Self::start_in`] with extra environment variables (`RUST_LOG` among them).
    pub fn start_in_with_env(ns: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns, &daisee_bin()]).args(args).env("RUST_LOG", "warn");
        cmd.envs(env.iter().copied());
        Self::spawn(cmd)
    }

    fn spawn(mut cmd: Command) -> Self {
        let mut child = cmd
            .args(["--http.port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn daisee");
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = lines.clone();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("rpc: http://") {
                    let _ = tx.send(url.to_string());
                }
                seen.lock().unwrap().push(line);
            }
        });
        // Logs still reach the test's output, and are kept for `logged`.
        let seen = lines.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("{line}");
                seen.lock().unwrap().push(line);
            }
        });
        let rpc = rx.recv_timeout(Duration::from_secs(60)).expect("node printed its RPC address");
        Self { child, rpc, lines }
    }

    /// Waits for a printed or logged line that contains `text`.
    pub fn logged(&self, text: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            if let Some(l) = self.lines.lock().unwrap().iter().find(|l| l.contains(text)) {
                return l.clone();
            }
            assert!(start.elapsed() < timeout, "nothing logged containing {text:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every line printed or logged so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits for a line of standard output starting with `prefix`; returns the rest.
    pub fn line(&self, prefix: &str) -> String {
        let start = Instant::now();
        loop {
            if let Some(l) = self.lines.lock().unwrap().iter().find(|l| l.starts_with(prefix)) {
                return l[prefix.len()..].to_string();
            }
            assert!(start.elapsed() < Duration::from_secs(30), "no {prefix:?} line");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends a JSON-RPC call.
    pub fn call(&self, method: &str, params: Value) -> Result<Value, RpcFailure> {
        rpc_call(&self.rpc, method, params)
    }

    /// Sends a call that must succeed.
    pub fn ok(&self, method: &str, params: Value) -> Value {
        self.call(method, params).unwrap_or_else(|e| panic!("{method} failed: {e:?}"))
    }

    /// SIGKILL, as a power cut or OOM kill would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait; returns whether it exited successfully.
    pub fn terminate(mut self) -> bool {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        self.child.wait().unwrap().success()
    }

    /// Polls until `tx` has a receipt.
    pub fn wait_receipt(&self, tx: &B256, timeout: Duration) -> Value {
        let start = Instant::now();
        loop {
            let receipt = self.ok("eth_getTransactionReceipt", json!([tx]));
            if !receipt.is_null() {
                return receipt;
            }
            assert!(start.elapsed() < timeout, "no receipt for {tx}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Why a call failed.
#[derive(Debug)]
pub enum RpcFailure {
    /// The connection failed or broke (the node is down).
    Transport(String),
    /// The node answered with a JSON-RPC error.
    Error { code: i64, message: String },
}

/// POSTs `body` over a fresh HTTP/1.1 connection; returns the status code and the body.
pub fn http_post(addr: &str, body: &[u8]) -> std::io::Result<(u16, String)> {
    use std::net::ToSocketAddrs;
    let to = addr.to_socket_addrs()?.next().ok_or(std::io::ErrorKind::AddrNotAvailable)?;
    let mut stream = TcpStream::connect_timeout(&to, Duration::from_secs(10))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    stream.set_write_timeout(Some(Duration::from_secs(60)))?;
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    // The server may answer (413) and close before reading a huge body: that is fine.
    let _ = stream.write_all(body);
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let response = String::from_utf8_lossy(&response).to_string();
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let payload = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Ok((status, payload))
}

/// GETs `path` over a fresh connection; returns the status, the headers (lower-cased) and the body.
pub fn http_get(addr: &str, path: &str) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").expect("head") + 4;
    let head = String::from_utf8_lossy(&response[..split]).to_lowercase();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head, response[split..].to_vec())
}

/// One JSON-RPC call over a fresh HTTP/1.1 connection.
pub fn rpc_call(addr: &str, method: &str, params: Value) -> Result<Value, RpcFailure> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let (_, payload) =
        http_post(addr, body.as_bytes()).map_err(|e| RpcFailure::Transport(e.to_string()))?;
    if payload.is_empty() {
        return Err(RpcFailure::Transport("empty response".into()));
    }
    let value: Value = serde_json::from_str(&payload)
        .map_err(|e| RpcFailure::Transport(format!("bad JSON {payload:?}: {e}")))?;
    if let Some(err) = value.get("error") {
        return Err(RpcFailure::Error {
            code: err["code"].as_i64().unwrap_or_default(),
            message: err["message"].as_str().unwrap_or_default().to_string(),
        });
    }
    Ok(value["result"].clone())
}

/// Imports dev account 0 (the dev chain's signer) into `dir`'s keystore with the password
/// `pw`; returns the password file's path.
pub fn import_dev_signer(dir: &TempDir) -> String {
    let password = dir.path().join("pw.txt");
    std::fs::write(&password, "pw\n").unwrap();
    let keyfile = dir.path().join("key.hex");
    std::fs::write(&keyfile, hex::encode(dev_key(0).to_bytes())).unwrap();
    let pw = password.to_str().unwrap().to_string();
    daisee_ok(&[
        "account",
        "import",
        keyfile.to_str().unwrap(),
        "--datadir",
        dir.str(),
        "--password",
        &pw,
    ]);
    pw
}

/// Key `i` of the standard test mnemonic (the dev accounts).
pub fn dev_key(i: u32) -> PrivateKey {
    let seed = daisee_node::accounts::mnemonic_seed(daisee_node::accounts::DEV_MNEMONIC);
    daisee_node::accounts::derive_key(&seed, i).unwrap()
}

/// An EIP-1559 transaction signed by `key`.
pub fn signed(
    key: &PrivateKey,
    chain_id: u64,
    nonce: u64,
    to: Address,
    value: U256,
    input: Bytes,
    gas: u64,
) -> SignedTransaction {
    Transaction {
        tx_type: TxType::Eip1559,
        chain_id: Some(chain_id),
        nonce,
        max_priority_fee_per_gas: U256::from(1_000_000_000u64),
        max_fee_per_gas: U256::from(10_000_000_000u64),
        gas_limit: gas,
        to: TxKind::Call(to),
        value,
        input,
        access_list: vec![],
    }
    .sign(key)
}

/// `0x…` hex of a transaction's canonical encoding.
pub fn raw(tx: &SignedTransaction) -> String {
    format!("0x{}", hex::encode(tx.encoded()))
}

/// Parses a hex quantity.
pub fn quantity(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// Polls `ok` every half second until it holds; panics with `what` after `timeout`.
pub fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < timeout, "{what} within {timeout:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
}
