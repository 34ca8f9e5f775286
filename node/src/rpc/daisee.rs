//! The `daisee_` namespace: what this board's meters are doing (`daisee_meters`): readings
//! waiting in the outbox, confirmed reports, reverts and their reason, each sensor's last
//! sample, battery and frame counters.

use super::method;
use crate::node::Node;
use jsonrpsee::RpcModule;
use serde_json::json;

pub(super) fn register(
    m: &mut RpcModule<Node>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    method(m, "daisee_meters", |_, node| Ok(json!(node.meter_statuses())))?;
    Ok(())
}
