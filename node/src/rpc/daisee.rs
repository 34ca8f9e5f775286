//! The `daisee_` namespace: what this board's meters are doing (`daisee_meters`): readings
//! waiting in the outbox, confirmed reports, reverts and their reason, each sensor's last
//! sample, battery and frame counters.

use super::method;
use crate::meter::StatusBoard;
use crate::node::Node;
use jsonrpsee::RpcModule;
use serde_json::json;

pub(super) fn register(
    m: &mut RpcModule<Node>,
    meters: &StatusBoard,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    let meters = meters.clone();
    method(m, "daisee_meters", move |_, _| Ok(json!(meters.all())))?;
    Ok(())
}
