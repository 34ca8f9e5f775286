//! Checks a transaction must pass to enter the pool, with go-ethereum's error messages:
//! chain id, size, fees, intrinsic gas, gas limit, nonce and balance.

use crate::primitives::{SignedTransaction, TxKind, TxType, U256};

/// Largest transaction accepted, encoded (geth's txMaxSize).
pub const MAX_TX_SIZE: usize = 128 * 1024;
/// Largest init code (EIP-3860).
const MAX_INITCODE_SIZE: usize = 49_152;

/// Why the pool refused a transaction. Messages are geth's, so clients recognise them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[allow(missing_docs)]
pub enum PoolError {
    #[error("rlp: {0}")]
    Decode(String),
    #[error("already known")]
    AlreadyKnown,
    #[error("invalid chain id for signer: have {have:?}, want {want}")]
    WrongChainId { have: Option<u64>, want: u64 },
    #[error("only replay-protected (EIP-155) transactions allowed over RPC")]
    Unprotected,
    #[error("invalid sender: {0}")]
    InvalidSender(String),
    #[error("oversized data: transaction size {size}, limit {limit}")]
    Oversized { size: usize, limit: usize },
    #[error("max initcode size exceeded: code size {size}, limit {limit}")]
    InitCodeTooLarge { size: usize, limit: usize },
    #[error("exceeds block gas limit")]
    GasLimitExceeded,
    #[error("intrinsic gas too low: gas {gas}, minimum needed {needed}")]
    IntrinsicGasTooLow { gas: u64, needed: u64 },
    #[error("max priority fee per gas higher than max fee per gas")]
    TipAboveFeeCap,
    #[error("transaction underpriced: gas price {price}, minimum {minimum}")]
    Underpriced { price: u128, minimum: u128 },
    #[error("nonce too low: next nonce {next}, tx nonce {nonce}")]
    NonceTooLow { next: u64, nonce: u64 },
    #[error("insufficient funds for gas * price + value: balance {balance}, tx cost {cost}")]
    InsufficientFunds { balance: U256, cost: U256 },
    #[error("replacement transaction underpriced")]
    ReplacementUnderpriced,
    #[error("txpool is full")]
    Full,
    #[error("account limit exceeded: {0} transactions already pooled for this sender")]
    AccountLimit(usize),
    #[error("cannot journal the transaction: {0}")]
    Journal(String),
    #[error("nonce has max value")]
    NonceMax,
    #[error("gas * gas fee cap overflows 256 bits")]
    FeeOverflow,
}

/// Gas a transaction costs before executing anything (Istanbul calldata pricing, EIP-2930 access
/// lists, EIP-3860 init code words), and the EIP-7623 calldata floor.
pub fn intrinsic_gas(tx: &SignedTransaction) -> (u64, u64) {
    let t = &tx.tx;
    let zeros = t.input.iter().filter(|b| **b == 0).count() as u64;
    let nonzeros = t.input.len() as u64 - zeros;
    let mut gas = 21_000 + zeros * 4 + nonzeros * 16;
    if t.to == TxKind::Create {
        gas += 32_000 + 2 * (t.input.len() as u64).div_ceil(32);
    }
    for item in &t.access_list {
        gas += 2_400 + 1_900 * item.storage_keys.len() as u64;
    }
    let floor = 21_000 + 10 * (zeros + 4 * nonzeros);
    (gas, floor)
}

/// What makes a transaction invalid in any block (Cancun rules), whatever a pool's policy: a
/// chain id not this chain's, a nonce at 2^64 - 1 (EIP-2681), init code over the EIP-3860
/// limit, a tip above the fee cap, gas × fee cap beyond 256 bits, a gas limit below the
/// intrinsic gas, a signature that does not recover (EIP-2's low `s` included). Ethereum's
/// TransactionTests check exactly these (`vector_tests.rs`).
pub fn check_valid(tx: &SignedTransaction, chain_id: u64) -> Result<(), PoolError> {
    let t = &tx.tx;
    if let Some(id) = t.chain_id.filter(|id| *id != chain_id) {
        return Err(PoolError::WrongChainId { have: Some(id), want: chain_id });
    }
    if t.nonce == u64::MAX {
        return Err(PoolError::NonceMax);
    }
    if t.to == TxKind::Create && t.input.len() > MAX_INITCODE_SIZE {
        return Err(PoolError::InitCodeTooLarge { size: t.input.len(), limit: MAX_INITCODE_SIZE });
    }
    if t.max_priority_fee_per_gas > t.max_fee_per_gas {
        return Err(PoolError::TipAboveFeeCap);
    }
    if U256::from(t.gas_limit).checked_mul(t.max_fee_per_gas).is_none() {
        return Err(PoolError::FeeOverflow);
    }
    let (gas, _) = intrinsic_gas(tx);
    if t.gas_limit < gas {
        return Err(PoolError::IntrinsicGasTooLow { gas: t.gas_limit, needed: gas });
    }
    tx.recover_sender().map_err(|e| PoolError::InvalidSender(e.to_string()))?;
    Ok(())
}

/// Checks that need no state: chain id, size, fee fields, intrinsic gas, block gas limit.
pub fn check_stateless(
    tx: &SignedTransaction,
    chain_id: u64,
    block_gas_limit: u64,
    min_gas_price: u128,
) -> Result<(), PoolError> {
    let t = &tx.tx;
    match t.chain_id {
        Some(id) if id != chain_id => {
            return Err(PoolError::WrongChainId { have: Some(id), want: chain_id })
        }
        None if t.tx_type == TxType::Legacy => return Err(PoolError::Unprotected),
        _ => {}
    }
    let size = tx.encoded().len();
    if size > MAX_TX_SIZE {
        return Err(PoolError::Oversized { size, limit: MAX_TX_SIZE });
    }
    if t.to == TxKind::Create && t.input.len() > MAX_INITCODE_SIZE {
        return Err(PoolError::InitCodeTooLarge { size: t.input.len(), limit: MAX_INITCODE_SIZE });
    }
    if t.gas_limit > block_gas_limit {
        return Err(PoolError::GasLimitExceeded);
    }
    if t.nonce == u64::MAX {
        return Err(PoolError::NonceMax);
    }
    if t.max_priority_fee_per_gas > t.max_fee_per_gas {
        return Err(PoolError::TipAboveFeeCap);
    }
    if t.fee_cap() < min_gas_price {
        return Err(PoolError::Underpriced { price: t.fee_cap(), minimum: min_gas_price });
    }
    let (gas, floor) = intrinsic_gas(tx);
    let needed = gas.max(floor);
    if t.gas_limit < needed {
        return Err(PoolError::IntrinsicGasTooLow { gas: t.gas_limit, needed });
    }
    Ok(())
}

/// The most a transaction can cost its sender: `gas * max fee + value`, saturating at 2^256 - 1
/// (which no balance reaches, so an overflowing transaction is refused for its funds).
pub fn max_cost(tx: &SignedTransaction) -> U256 {
    let t = &tx.tx;
    U256::from(t.gas_limit).saturating_mul(t.max_fee_per_gas).saturating_add(t.value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::{Bytes, PrivateKey, Transaction, B256};

    fn tx(input: &[u8], to: TxKind) -> SignedTransaction {
        Transaction {
            tx_type: TxType::Eip1559,
            chain_id: Some(1),
            nonce: 0,
            max_priority_fee_per_gas: U256::from(1),
            max_fee_per_gas: U256::from(10),
            gas_limit: 100_000,
            to,
            value: U256::ZERO,
            input: Bytes::copy_from_slice(input),
            access_list: vec![],
        }
        .sign(&PrivateKey::from_bytes(&B256::repeat_byte(1)).unwrap())
    }

    #[test]
    fn intrinsic_gas_prices_calldata_and_creation() {
        let call = TxKind::Call(Default::default());
        assert_eq!(intrinsic_gas(&tx(&[], call)).0, 21_000);
        assert_eq!(intrinsic_gas(&tx(&[0, 1], call)).0, 21_000 + 4 + 16);
        assert_eq!(intrinsic_gas(&tx(&[1; 33], TxKind::Create)).0, 53_000 + 33 * 16 + 4);
    }

    #[test]
    fn stateless_checks_name_the_problem() {
        let call = TxKind::Call(Default::default());
        let t = tx(&[], call);
        assert_eq!(
            check_stateless(&t, 2, 30_000_000, 0),
            Err(PoolError::WrongChainId { have: Some(1), want: 2 })
        );
        assert_eq!(check_stateless(&t, 1, 50_000, 0), Err(PoolError::GasLimitExceeded));
        assert!(matches!(
            check_stateless(&t, 1, 30_000_000, 11),
            Err(PoolError::Underpriced { .. })
        ));
        let big = tx(&vec![1; MAX_TX_SIZE], call);
        assert!(matches!(check_stateless(&big, 1, u64::MAX, 0), Err(PoolError::Oversized { .. })));
        assert_eq!(check_stateless(&t, 1, 30_000_000, 0), Ok(()));
    }

    #[test]
    fn the_cost_of_a_huge_value_saturates_instead_of_wrapping() {
        let mut t = tx(&[], TxKind::Call(Default::default())).tx;
        t.value = U256::MAX;
        let signed = t.sign(&PrivateKey::from_bytes(&B256::repeat_byte(1)).unwrap());
        assert_eq!(max_cost(&signed), U256::MAX);
    }
}
