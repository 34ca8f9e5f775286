//! JSON-RPC over a unix socket (`<datadir>/daisee.ipc`, as geth's `geth.ipc`): a stream of JSON
//! requests in, one JSON answer per request out, subscriptions pushed on the same stream. Only
//! the local user can reach it (mode 0600).

use crate::node::Node;
use jsonrpsee::RpcModule;
use serde_json::value::RawValue;
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;

/// Largest request on the socket.
const MAX_IPC_REQUEST: usize = 5 * 1024 * 1024;

/// Serves `module` on a unix socket at `path` until the returned task is aborted.
pub fn serve_ipc(
    module: RpcModule<Node>,
    path: &Path,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    if path.exists() {
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    tracing::info!(target: "daisee::rpc", "JSON-RPC on IPC {}", path.display());
    Ok(tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(connection(module.clone(), stream));
                }
                Err(e) => {
                    tracing::warn!(target: "daisee::rpc", "IPC accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
    }))
}

async fn connection(module: RpcModule<Node>, stream: UnixStream) {
    let (mut reader, mut writer) = stream.into_split();
    let (out_tx, mut out_rx) = mpsc::channel::<String>(256);
    let writing = tokio::spawn(async move {
        while let Some(mut text) = out_rx.recv().await {
            text.push('\n');
            if writer.write_all(text.as_bytes()).await.is_err() {
                break;
            }
        }
    });
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        // Take every complete JSON value at the front of the buffer.
        loop {
            let mut values =
                serde_json::Deserializer::from_slice(&buf).into_iter::<Box<RawValue>>();
            match values.next() {
                Some(Ok(value)) => {
                    let used = values.byte_offset();
                    buf.drain(..used);
                    let answer = answer(&module, value.get(), &out_tx).await;
                    if out_tx.send(answer).await.is_err() {
                        return;
                    }
                }
                Some(Err(e)) if e.is_eof() => break,
                Some(Err(_)) => {
                    let err = r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#;
                    let _ = out_tx.send(err.to_string()).await;
                    buf.clear();
                    break;
                }
                None => {
                    buf.clear();
                    break;
                }
            }
        }
        if buf.len() > MAX_IPC_REQUEST {
            let err = r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"request too large"}}"#;
            let _ = out_tx.send(err.to_string()).await;
            break;
        }
    }
    drop(out_tx);
    let _ = writing.await;
}

/// Answers one request or batch; subscription notifications go to `out` as they come.
async fn answer(module: &RpcModule<Node>, text: &str, out: &mpsc::Sender<String>) -> String {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let Ok(items) = serde_json::from_str::<Vec<Box<RawValue>>>(text) else {
            return r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#.into();
        };
        if items.is_empty() || items.len() > 1000 {
            return r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid batch size"}}"#.into();
        }
        let mut answers = Vec::with_capacity(items.len());
        for item in items {
            answers.push(single(module, item.get(), out).await);
        }
        return format!("[{}]", answers.join(","));
    }
    single(module, text, out).await
}

async fn single(module: &RpcModule<Node>, text: &str, out: &mpsc::Sender<String>) -> String {
    let (method, text) = super::sub_ids::from_hex(text);
    match module.raw_json_request(&text, 256).await {
        Ok((response, mut notifications)) => {
            let out = out.clone();
            tokio::spawn(async move {
                while let Some(n) = notifications.recv().await {
                    if out.send(super::sub_ids::to_hex(None, n.get())).await.is_err() {
                        break;
                    }
                }
            });
            super::sub_ids::to_hex(method.as_deref(), response.get())
        }
        Err(_) => {
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid request"}}"#
                .into()
        }
    }
}
