//! The `eth_` namespace, fee part: `eth_gasPrice`, `eth_maxPriorityFeePerGas`, `eth_feeHistory`.
//! A community chain is rarely full, so the suggested tip is a constant 1 gwei (as anvil's).

use super::json::q;
use super::limits::RpcLimits;
use super::{method, BlockTag, RpcError};
use crate::node::Node;
use jsonrpsee::RpcModule;
use serde_json::json;

/// The priority fee suggested to clients, in wei.
pub(crate) const DEFAULT_TIP: u128 = 1_000_000_000;

pub(super) fn register(
    m: &mut RpcModule<Node>,
    limits: &RpcLimits,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    let (max_blocks, max_percentiles) = (limits.fee_history_blocks, limits.fee_history_percentiles);
    method(m, "eth_gasPrice", |_, node| {
        let base = node.block_context(None).base_fee.unwrap_or(0);
        Ok(json!(format!("{:#x}", u128::from(base) + DEFAULT_TIP)))
    })?;
    method(m, "eth_maxPriorityFeePerGas", |_, _| Ok(json!(format!("{DEFAULT_TIP:#x}"))))?;
    method(m, "eth_feeHistory", move |params, node| {
        let mut seq = params.sequence();
        let count: alloy_primitives::U64 = seq.next()?;
        let newest: BlockTag = seq.next()?;
        let percentiles: Option<Vec<f64>> = seq.optional_next()?;
        if let Some(ps) = &percentiles {
            check_percentiles(ps, max_percentiles)?;
        }
        let head = node.head().number;
        let newest = newest.number(node)?.unwrap_or(head).min(head);
        let count = count.to::<u64>().clamp(1, max_blocks).min(newest + 1);
        let oldest = newest + 1 - count;
        let (mut base_fees, mut ratios, mut rewards) = (Vec::new(), Vec::new(), Vec::new());
        for number in oldest..=newest {
            let hash = node
                .store()
                .canonical_hash(number)?
                .ok_or_else(|| RpcError::Internal("gap".into()))?;
            let block = node
                .store()
                .block(&hash)?
                .ok_or_else(|| RpcError::Internal("block missing".into()))?;
            let h = &block.header;
            base_fees.push(q(h.base_fee_per_gas.unwrap_or(0)));
            ratios.push(h.gas_used as f64 / h.gas_limit.max(1) as f64);
            if let Some(ps) = &percentiles {
                let receipts = node.store().receipts(&hash)?.unwrap_or_default();
                rewards.push(block_rewards(&block, &receipts, ps));
            }
        }
        let next = node
            .store()
            .header_by_number(newest)?
            .and_then(|h| crate::consensus::next_base_fee(&node.chain_config(), &h));
        base_fees.push(q(next.unwrap_or(0)));
        let mut out =
            json!({"oldestBlock": q(oldest), "baseFeePerGas": base_fees, "gasUsedRatio": ratios});
        if percentiles.is_some() {
            out["reward"] = json!(rewards);
        }
        Ok(out)
    })?;
    Ok(())
}

/// The tips at the given percentiles of a block's gas, as geth computes them.
/// geth's rules for reward percentiles: at most `max`, each in [0, 100], ascending.
fn check_percentiles(ps: &[f64], max: usize) -> Result<(), RpcError> {
    if ps.len() > max {
        return Err(RpcError::InvalidParams(format!(
            "{} reward percentiles asked, at most {max} allowed",
            ps.len()
        )));
    }
    for (i, p) in ps.iter().enumerate() {
        if !(0.0..=100.0).contains(p) {
            return Err(RpcError::InvalidParams(format!("invalid reward percentile: {p}")));
        }
        if i > 0 && *p < ps[i - 1] {
            return Err(RpcError::InvalidParams(format!(
                "invalid reward percentile: #{} ({}) < #{i} ({p})",
                i - 1,
                ps[i - 1]
            )));
        }
    }
    Ok(())
}

fn block_rewards(
    block: &crate::primitives::Block,
    receipts: &[crate::primitives::Receipt],
    ps: &[f64],
) -> Vec<String> {
    let base = block.header.base_fee_per_gas;
    let mut previous = 0;
    let mut tips: Vec<(u128, u64)> = block
        .transactions
        .iter()
        .zip(receipts)
        .map(|(tx, r)| {
            let used = r.cumulative_gas_used - previous;
            previous = r.cumulative_gas_used;
            let price = tx.tx.effective_gas_price(base);
            (price - u128::from(base.unwrap_or(0)).min(price), used)
        })
        .collect();
    tips.sort_unstable();
    let total: u64 = tips.iter().map(|(_, g)| g).sum();
    ps.iter()
        .map(|p| {
            let threshold = (total as f64 * p / 100.0) as u64;
            let mut sum = 0;
            let tip = tips.iter().find(|(_, g)| {
                sum += g;
                sum >= threshold
            });
            format!("{:#x}", tip.or(tips.last()).map_or(0, |(t, _)| *t))
        })
        .collect()
}

#[cfg(test)]
mod percentile_tests {
    use super::check_percentiles;

    #[test]
    fn percentiles_are_bounded_in_range_and_ascending() {
        assert!(check_percentiles(&[0.0, 25.0, 25.0, 100.0], 100).is_ok());
        assert!(check_percentiles(&vec![50.0; 101], 100).is_err());
        assert!(check_percentiles(&[101.0], 100).is_err());
        assert!(check_percentiles(&[-1.0], 100).is_err());
        assert!(check_percentiles(&[f64::NAN], 100).is_err());
        let err = check_percentiles(&[50.0, 10.0], 100).unwrap_err().to_string();
        assert!(err.contains("#0 (50) < #1 (10)"), "{err}");
    }
}
