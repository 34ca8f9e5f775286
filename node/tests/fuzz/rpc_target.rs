//! The JSON-RPC fuzz target: any method of any namespace with any parameters, through the real
//! module of a node on a fresh community chain (in memory), must answer — a result or an error —
//! without panicking.
#![allow(dead_code)]

use daisee_node::community::{community_genesis, CommunitySpec};
use daisee_node::node::{Node, NodeConfig};
use daisee_node::primitives::{PrivateKey, B256, U256};
use daisee_node::state::Store;
use jsonrpsee::RpcModule;
use std::sync::OnceLock;

struct Harness {
    runtime: tokio::runtime::Runtime,
    module: RpcModule<Node>,
    methods: Vec<String>,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let key = PrivateKey::from_bytes(&B256::repeat_byte(1)).expect("key");
        let spec = CommunitySpec {
            chain_id: 31337,
            period: 0,
            epoch: 30_000,
            signers: vec![key.address()],
            funds: vec![(key.address(), U256::from(10u64).pow(U256::from(21)))],
            owner: key.address(),
            rate: U256::ZERO,
            meters: vec![key.address()],
            timestamp: 0,
            interval_s: 0,
            grace_s: 0,
            gas_limit: 0,
        };
        let store = Store::temporary().expect("store");
        store.init_genesis(&community_genesis(&spec).expect("genesis")).expect("init");
        let config = NodeConfig { accounts: vec![key], ..Default::default() };
        let node = Node::new(store.clone(), config).expect("node");
        // The daybook's doors too (`daisee_days`, `daisee_records`), with a block indexed.
        let daybook = daisee_node::daybook::Daybook::open_in_system_zone(store).expect("daybook");
        daybook.catch_up().expect("index");
        let apis: Vec<String> = daisee_node::rpc::ALL_APIS.iter().map(|s| s.to_string()).collect();
        let limits = daisee_node::rpc::RpcLimits {
            evm_timeout: std::time::Duration::from_millis(200),
            ..Default::default()
        };
        let module =
            daisee_node::rpc::module(node, &apis, &limits, &Default::default(), Some(&daybook))
                .expect("module");
        let mut methods: Vec<String> = module.method_names().map(str::to_string).collect();
        methods.sort();
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        Harness { runtime, module, methods }
    })
}

/// The first byte picks the method, the rest is the `params` JSON text.
pub fn rpc(data: &[u8]) {
    let Some((pick, params)) = data.split_first() else { return };
    let h = harness();
    let method = &h.methods[usize::from(*pick) % h.methods.len()];
    let params = String::from_utf8_lossy(params);
    rpc_call(method, &params);
}

/// Calls `method` with `params` (JSON text, maybe not JSON at all); the answer must be JSON-RPC.
pub fn rpc_call(method: &str, params: &str) {
    let h = harness();
    let request = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":{},"params":{params}}}"#,
        serde_json::Value::from(method)
    );
    let answer = h.runtime.block_on(h.module.raw_json_request(&request, 64));
    if let Ok((response, _)) = answer {
        let value: serde_json::Value = serde_json::from_str(response.get()).expect("JSON answer");
        assert!(value.get("result").is_some() || value.get("error").is_some(), "{value}");
    }
}

/// Every method name the module serves.
pub fn methods() -> &'static [String] {
    &harness().methods
}
