//! Every household's figures at one block, read by the node in one EVM: the Daisee contract's own
//! view functions (`getMeters`, `productionOf`, `consumptionOf`, `netBalanceOf`,
//! `lastIntervalOf`, `escrowOf`), so the answer is what `eth_call` would give, whichever version
//! of the contract the chain runs. A town's 1,000 households cost the node one pass per head
//! (kept until the next head) instead of 5,000 calls from each browser.

use super::RpcError;
use crate::community::DAISEE_ADDRESS;
use crate::execution::{view_calls, CallLimits};
use crate::node::Node;
use crate::primitives::{Address, Bytes, Header, B256, U256};
use alloy_primitives::I256;
use alloy_sol_types::SolCall;
use daisee_contracts::Daisee;
use std::sync::{Arc, Mutex};

/// Households one summary reads at most: beyond, the answer would be too slow for a board's
/// EVM time limit and too large for its memory (each household is ~200 bytes here).
pub(super) const MAX_HOUSEHOLDS: usize = 20_000;

/// One household at the block.
#[derive(Debug, Clone)]
pub(super) struct Household {
    /// Its place in the contract's list (registration order).
    pub index: usize,
    pub address: Address,
    pub produced: U256,
    pub consumed: U256,
    pub net: I256,
    pub last_interval: u64,
    pub escrow: U256,
}

/// The community at one block.
#[derive(Debug)]
pub(super) struct Households {
    pub header: Header,
    pub hash: B256,
    pub rate: U256,
    pub list: Vec<Household>,
    /// Read on the head's state while blocks were imported (a board catching up): the figures
    /// may be of blocks up to `header`, not all of one block.
    pub moving: bool,
}

/// The last summary read, for its block (cheap to clone: one per RPC module).
#[derive(Clone, Default)]
pub(super) struct Cache(Arc<Mutex<Option<Arc<Households>>>>);

impl Cache {
    /// The households at the head: the cached summary if it is the head's, else a new one.
    pub(super) fn at_head(
        &self,
        node: &Node,
        limits: &CallLimits,
    ) -> Result<Arc<Households>, RpcError> {
        // One reader at a time: a second caller waits and takes the first one's answer.
        let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let header = node.head();
        let hash = header.hash();
        if let Some(cached) = slot.as_ref().filter(|c| c.hash == hash) {
            return Ok(cached.clone());
        }
        // A board catching up imports blocks faster than 1,000 households are read, and the
        // state of a block 128 behind the head is gone: read at the new head, then, if the head
        // outran that too, on the head's state as it moves (said by `moving`).
        let mut header = header;
        let mut hash = hash;
        for _ in 0..2 {
            match read(node, header, hash, limits, true) {
                Err(RpcError::HistoricalState) => {
                    header = node.head();
                    hash = header.hash();
                }
                other => return store(&mut slot, other?),
            }
        }
        let mut moving = read(node, header, hash, limits, false)?;
        moving.header = node.head();
        moving.hash = moving.header.hash();
        moving.moving = true;
        store(&mut slot, moving)
    }
}

fn store(
    slot: &mut Option<Arc<Households>>,
    read: Households,
) -> Result<Arc<Households>, RpcError> {
    let read = Arc::new(read);
    *slot = Some(read.clone());
    Ok(read)
}

/// The households at `header` (`pinned`), or on the head's state as blocks are imported.
fn read(
    node: &Node,
    header: Header,
    hash: B256,
    limits: &CallLimits,
    pinned: bool,
) -> Result<Households, RpcError> {
    let config = node.chain_config();
    let ctx = node.block_context(Some(&header));
    let at = pinned.then_some(header.number);
    let calls = |inputs: &[Bytes]| {
        view_calls(node.store(), &config, &ctx, at, DAISEE_ADDRESS, inputs, limits)
    };
    let first = calls(&[
        Daisee::getMetersCall {}.abi_encode().into(),
        Daisee::getRateCall {}.abi_encode().into(),
    ])?;
    let decoded = |out: &Option<Bytes>, what: &str| {
        out.clone().ok_or_else(|| RpcError::Internal(format!("the contract refused {what}")))
    };
    let meters = Daisee::getMetersCall::abi_decode_returns(&decoded(&first[0], "getMeters")?)
        .map_err(|e| RpcError::Internal(format!("getMeters: {e}")))?;
    let rate = Daisee::getRateCall::abi_decode_returns(&decoded(&first[1], "getRate")?)
        .map_err(|e| RpcError::Internal(format!("getRate: {e}")))?;
    if meters.len() > MAX_HOUSEHOLDS {
        return Err(RpcError::LimitExceeded(format!(
            "the community has {} households, more than the {MAX_HOUSEHOLDS} a summary reads",
            meters.len()
        )));
    }
    let inputs: Vec<Bytes> = meters
        .iter()
        .flat_map(|&account| {
            [
                Daisee::productionOfCall { account }.abi_encode(),
                Daisee::consumptionOfCall { account }.abi_encode(),
                Daisee::netBalanceOfCall { account }.abi_encode(),
                Daisee::lastIntervalOfCall { meter: account }.abi_encode(),
                Daisee::escrowOfCall { account }.abi_encode(),
            ]
        })
        .map(Bytes::from)
        .collect();
    let outputs = calls(&inputs)?;
    let mut list = Vec::with_capacity(meters.len());
    for (index, (address, out)) in meters.iter().zip(outputs.chunks(5)).enumerate() {
        let word = |i: usize| -> Result<U256, RpcError> {
            let bytes = out.get(i).and_then(|o| o.as_ref()).filter(|b| b.len() >= 32);
            let bytes = bytes.ok_or_else(|| {
                RpcError::Internal(format!("the contract gave no figure for {address}"))
            })?;
            Ok(U256::from_be_slice(&bytes[..32]))
        };
        list.push(Household {
            index,
            address: *address,
            produced: word(0)?,
            consumed: word(1)?,
            net: I256::from_raw(word(2)?),
            last_interval: u64::try_from(word(3)?).unwrap_or(u64::MAX),
            escrow: word(4)?,
        });
    }
    Ok(Households { header, hash, rate, list, moving: false })
}
