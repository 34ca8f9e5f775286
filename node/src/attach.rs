//! `daisee attach`: an interactive JSON-RPC console over IPC, HTTP or WebSocket. Type a method and its
//! parameters as JSON (`eth_getBalance ["0x…", "latest"]`), see the answer as pretty JSON;
//! history is kept in `~/.daisee_history`, Tab completes method names.

use anyhow::{bail, Context};
use rustyline::completion::{Completer, Pair};
use rustyline::{Context as LineContext, Editor};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::PathBuf;

/// Methods offered for completion.
const METHODS: &[&str] = &[
    "eth_accounts",
    "eth_blockNumber",
    "eth_call",
    "eth_chainId",
    "eth_coinbase",
    "eth_estimateGas",
    "eth_feeHistory",
    "eth_gasPrice",
    "eth_getBalance",
    "eth_getBlockByHash",
    "eth_getBlockByNumber",
    "eth_getBlockReceipts",
    "eth_getBlockTransactionCountByHash",
    "eth_getBlockTransactionCountByNumber",
    "eth_getCode",
    "eth_getFilterChanges",
    "eth_getFilterLogs",
    "eth_getLogs",
    "eth_getStorageAt",
    "eth_getTransactionByBlockHashAndIndex",
    "eth_getTransactionByBlockNumberAndIndex",
    "eth_getTransactionByHash",
    "eth_getTransactionCount",
    "eth_getTransactionReceipt",
    "eth_maxPriorityFeePerGas",
    "eth_mining",
    "eth_newBlockFilter",
    "eth_newFilter",
    "eth_newPendingTransactionFilter",
    "eth_sendRawTransaction",
    "eth_sendTransaction",
    "eth_sign",
    "eth_signTransaction",
    "eth_syncing",
    "eth_uninstallFilter",
    "net_listening",
    "net_peerCount",
    "net_version",
    "web3_clientVersion",
    "web3_sha3",
    "txpool_content",
    "txpool_inspect",
    "txpool_status",
    "clique_discard",
    "clique_getSigner",
    "clique_getSigners",
    "clique_getSignersAtHash",
    "clique_getSnapshot",
    "clique_proposals",
    "clique_propose",
    "clique_status",
    "debug_getRawBlock",
    "debug_getRawHeader",
    "rpc_modules",
];

/// A connection to a node.
pub(crate) enum Transport {
    Ipc(std::os::unix::net::UnixStream),
    Http(String),
    Ws(std::net::TcpStream),
}

/// Opens a WebSocket (RFC 6455) client connection: the HTTP upgrade, nothing more.
fn ws_connect(addr: &str) -> anyhow::Result<std::net::TcpStream> {
    let mut stream = std::net::TcpStream::connect(addr)?;
    let key = "ZGFpc2VlLWF0dGFjaC0xMg=="; // any 16 bytes, base64
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes())?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte)?;
        head.push(byte[0]);
    }
    if !head.starts_with(b"HTTP/1.1 101") {
        bail!(
            "WebSocket upgrade refused: {}",
            String::from_utf8_lossy(&head).lines().next().unwrap_or("")
        );
    }
    Ok(stream)
}

/// Sends one masked text frame.
fn ws_send(stream: &mut std::net::TcpStream, text: &str) -> anyhow::Result<()> {
    let payload = text.as_bytes();
    let mut frame = vec![0x81u8];
    match payload.len() {
        n if n < 126 => frame.push(0x80 | n as u8),
        n if n < 65536 => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let mask = [0x5a, 0x17, 0xc3, 0x8e];
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    stream.write_all(&frame)?;
    Ok(())
}

/// Reads frames until a whole text message arrives (pings are answered).
fn ws_receive(stream: &mut std::net::TcpStream) -> anyhow::Result<String> {
    let mut message = Vec::new();
    loop {
        let mut head = [0u8; 2];
        stream.read_exact(&mut head)?;
        let (fin, opcode) = (head[0] & 0x80 != 0, head[0] & 0x0f);
        let len = match head[1] & 0x7f {
            126 => {
                let mut b = [0u8; 2];
                stream.read_exact(&mut b)?;
                u64::from(u16::from_be_bytes(b))
            }
            127 => {
                let mut b = [0u8; 8];
                stream.read_exact(&mut b)?;
                u64::from_be_bytes(b)
            }
            n => u64::from(n),
        };
        let mut payload = vec![0u8; usize::try_from(len)?];
        stream.read_exact(&mut payload)?;
        match opcode {
            0x8 => bail!("the node closed the WebSocket"),
            0x9 => {
                let pong = [0x8a, 0x80, 0, 0, 0, 0];
                stream.write_all(&pong)?;
            }
            0x1 | 0x0 => {
                message.extend_from_slice(&payload);
                if fin {
                    return Ok(String::from_utf8(message)?);
                }
            }
            _ => {}
        }
    }
}

impl Transport {
    /// Sends one request, returns the answer.
    pub(crate) fn call(&mut self, request: &Value) -> anyhow::Result<Value> {
        let body = request.to_string();
        match self {
            Self::Ipc(stream) => {
                stream.write_all(body.as_bytes())?;
                stream.write_all(b"\n")?;
                let mut values =
                    serde_json::Deserializer::from_reader(&*stream).into_iter::<Value>();
                Ok(values.next().context("the node closed the connection")??)
            }
            Self::Http(addr) => {
                let mut stream = std::net::TcpStream::connect(addr.as_str())?;
                let head = format!(
                    "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                stream.write_all(head.as_bytes())?;
                stream.write_all(body.as_bytes())?;
                let mut response = String::new();
                stream.read_to_string(&mut response)?;
                let (_, payload) =
                    response.split_once("\r\n\r\n").context("truncated HTTP response")?;
                Ok(serde_json::from_str(payload)?)
            }
            Self::Ws(stream) => {
                ws_send(stream, &body)?;
                // Skip subscription notifications until the answer with our id arrives.
                loop {
                    let answer: Value = serde_json::from_str(&ws_receive(stream)?)?;
                    if answer.get("id") == request.get("id") {
                        return Ok(answer);
                    }
                }
            }
        }
    }
}

struct MethodCompleter;

impl rustyline::Helper for MethodCompleter {}
impl rustyline::highlight::Highlighter for MethodCompleter {}
impl rustyline::validate::Validator for MethodCompleter {}
impl rustyline::hint::Hinter for MethodCompleter {
    type Hint = String;
}

impl Completer for MethodCompleter {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &LineContext<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let word = &line[..pos];
        if word.contains(char::is_whitespace) {
            return Ok((pos, vec![]));
        }
        let found = METHODS
            .iter()
            .filter(|m| m.starts_with(word))
            .map(|m| Pair { display: m.to_string(), replacement: m.to_string() })
            .collect();
        Ok((0, found))
    }
}

/// Parses `method [params]` into a request.
fn request(line: &str, id: u64) -> anyhow::Result<Value> {
    let line = line.trim();
    let (method, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let params = match rest.trim() {
        "" => json!([]),
        text => match serde_json::from_str::<Value>(text)
            .with_context(|| format!("parameters are not JSON: {text}"))?
        {
            Value::Array(a) => Value::Array(a),
            single => json!([single]),
        },
    };
    Ok(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
}

fn show(answer: &Value) -> String {
    match (answer.get("result"), answer.get("error")) {
        (Some(result), _) => serde_json::to_string_pretty(result).unwrap_or_default(),
        (_, Some(error)) => {
            format!("error: {}", serde_json::to_string_pretty(error).unwrap_or_default())
        }
        _ => serde_json::to_string_pretty(answer).unwrap_or_default(),
    }
}

/// A connection to `endpoint` (IPC path, http:// or ws:// URL), or to `datadir`'s IPC socket.
pub(crate) fn connect(
    endpoint: Option<String>,
    datadir: Option<PathBuf>,
) -> anyhow::Result<Transport> {
    let endpoint = match (endpoint, datadir) {
        (Some(e), _) => e,
        (None, Some(d)) => d.join("daisee.ipc").display().to_string(),
        (None, None) => bail!("give an endpoint (IPC path or http://host:port) or --datadir"),
    };
    Ok(if let Some(addr) = endpoint.strip_prefix("http://") {
        Transport::Http(addr.trim_end_matches('/').to_string())
    } else if let Some(addr) = endpoint.strip_prefix("ws://") {
        Transport::Ws(ws_connect(addr.trim_end_matches('/'))?)
    } else if endpoint.starts_with("https://") || endpoint.starts_with("wss://") {
        bail!("attach speaks IPC, http:// and ws:// (TLS is for a reverse proxy in front of the node)");
    } else {
        Transport::Ipc(
            std::os::unix::net::UnixStream::connect(&endpoint)
                .with_context(|| format!("connecting to {endpoint}"))?,
        )
    })
}

/// Runs the console.
pub fn run(
    endpoint: Option<String>,
    datadir: Option<PathBuf>,
    exec: Option<String>,
) -> anyhow::Result<()> {
    let mut transport = connect(endpoint, datadir)?;
    let mut out = std::io::stdout().lock();
    if let Some(script) = exec {
        for (id, line) in script.split(['\n', ';']).filter(|l| !l.trim().is_empty()).enumerate() {
            writeln!(out, "{}", show(&transport.call(&request(line, id as u64)?)?))?;
        }
        return Ok(());
    }
    let version = transport.call(&request("web3_clientVersion", 0)?)?;
    writeln!(out, "Welcome to the Daisee console: {}\nType a method and JSON params, e.g. eth_getBalance [\"0x…\", \"latest\"]; Ctrl-D quits.", show(&version))?;
    drop(out);
    let mut editor: Editor<MethodCompleter, rustyline::history::FileHistory> = Editor::new()?;
    editor.set_helper(Some(MethodCompleter));
    let history = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".daisee_history"));
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    let mut id = 1;
    loop {
        match editor.readline("> ") {
            Ok(line) if line.trim().is_empty() => continue,
            Ok(line) => {
                let _ = editor.add_history_entry(line.as_str());
                let answer = request(&line, id).and_then(|r| transport.call(&r));
                let mut out = std::io::stdout().lock();
                match answer {
                    Ok(a) => writeln!(out, "{}", show(&a))?,
                    Err(e) => writeln!(out, "error: {e:#}")?,
                }
                id += 1;
            }
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(_) => break,
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    Ok(())
}
