//! `daisee attach`: an interactive JSON-RPC console over IPC or HTTP. Type a method and its
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

enum Transport {
    Ipc(std::os::unix::net::UnixStream),
    Http(String),
}

impl Transport {
    fn call(&mut self, request: &Value) -> anyhow::Result<Value> {
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

/// Runs the console.
pub fn run(
    endpoint: Option<String>,
    datadir: Option<PathBuf>,
    exec: Option<String>,
) -> anyhow::Result<()> {
    let endpoint = match (endpoint, datadir) {
        (Some(e), _) => e,
        (None, Some(d)) => d.join("daisee.ipc").display().to_string(),
        (None, None) => bail!("give an endpoint (IPC path or http://host:port) or --datadir"),
    };
    let mut transport = if let Some(addr) = endpoint.strip_prefix("http://") {
        Transport::Http(addr.trim_end_matches('/').to_string())
    } else if endpoint.starts_with("ws://") || endpoint.starts_with("https://") {
        bail!("attach speaks IPC and http:// (use the HTTP port for {endpoint})");
    } else {
        Transport::Ipc(
            std::os::unix::net::UnixStream::connect(&endpoint)
                .with_context(|| format!("connecting to {endpoint}"))?,
        )
    };
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
