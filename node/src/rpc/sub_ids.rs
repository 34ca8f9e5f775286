//! Subscription ids as go-ethereum writes them — `0x` and 32 hex digits — which viem (and so
//! wagmi) requires: it registers string ids only, so numeric ids leave `watchBlocks` silent.
//! HTTP/WebSocket servers take them from [`HexIds`]; the IPC socket, which goes through
//! jsonrpsee's in-process calls (numeric ids), translates at its edge ([`to_hex`], [`from_hex`]).

use jsonrpsee::types::SubscriptionId;
use serde_json::Value;

/// Random `0x`-prefixed 128-bit hex subscription ids.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct HexIds;

impl jsonrpsee::server::IdProvider for HexIds {
    fn next_id(&self) -> SubscriptionId<'static> {
        let mut bytes = [0u8; 16];
        // A failed random source leaves zeros: ids stay unique per connection through jsonrpsee's
        // own check, and the answer still has go-ethereum's shape.
        let _ = getrandom::fill(&mut bytes);
        SubscriptionId::Str(format!("0x{}", hex::encode(bytes)).into())
    }
}

/// A numeric id as a hex string (IPC answers and notifications).
fn hex_id(v: &Value) -> Option<Value> {
    v.as_u64().map(|n| Value::from(format!("{n:#x}")))
}

/// Rewrites an IPC answer to `method` or a notification so that subscription ids are hex
/// strings.
pub(super) fn to_hex(method: Option<&str>, text: &str) -> String {
    let Ok(mut value) = serde_json::from_str::<Value>(text) else { return text.to_string() };
    let changed = if value["method"] == "eth_subscription" {
        match hex_id(&value["params"]["subscription"]) {
            Some(id) => {
                value["params"]["subscription"] = id;
                true
            }
            None => false,
        }
    } else if method == Some("eth_subscribe") {
        match hex_id(&value["result"]) {
            Some(id) => {
                value["result"] = id;
                true
            }
            None => false,
        }
    } else {
        false
    };
    if changed {
        value.to_string()
    } else {
        text.to_string()
    }
}

/// Rewrites an IPC `eth_unsubscribe` whose id is a hex string to the numeric id jsonrpsee
/// knows; returns the request's method and its text.
pub(super) fn from_hex(text: &str) -> (Option<String>, String) {
    let Ok(mut value) = serde_json::from_str::<Value>(text) else { return (None, text.into()) };
    let method = value["method"].as_str().map(str::to_string);
    if method.as_deref() == Some("eth_unsubscribe") {
        let id = value["params"][0]
            .as_str()
            .and_then(|s| u64::from_str_radix(s.strip_prefix("0x")?, 16).ok());
        if let Some(n) = id {
            value["params"][0] = Value::from(n);
            return (method, value.to_string());
        }
    }
    (method, text.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonrpsee::server::IdProvider;

    #[test]
    fn ids_are_hex_strings_as_geth_writes_them() {
        let SubscriptionId::Str(id) = HexIds.next_id() else { panic!("a string id") };
        assert_eq!(id.len(), 34);
        assert!(id.starts_with("0x") && id[2..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(HexIds.next_id(), HexIds.next_id());
    }

    #[test]
    fn ipc_ids_translate_both_ways() {
        let answer = to_hex(Some("eth_subscribe"), r#"{"jsonrpc":"2.0","id":1,"result":255}"#);
        assert_eq!(serde_json::from_str::<Value>(&answer).unwrap()["result"], "0xff");
        let note = to_hex(
            None,
            r#"{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":255,"result":1}}"#,
        );
        assert_eq!(serde_json::from_str::<Value>(&note).unwrap()["params"]["subscription"], "0xff");
        let (method, request) =
            from_hex(r#"{"jsonrpc":"2.0","id":2,"method":"eth_unsubscribe","params":["0xff"]}"#);
        assert_eq!(method.as_deref(), Some("eth_unsubscribe"));
        assert_eq!(serde_json::from_str::<Value>(&request).unwrap()["params"][0], 255);
        let untouched = r#"{"jsonrpc":"2.0","id":1,"result":"0x10"}"#;
        assert_eq!(to_hex(Some("eth_blockNumber"), untouched), untouched);
    }
}
