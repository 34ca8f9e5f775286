//! Blocks, transactions and receipts as JSON-RPC objects (go-ethereum's field names and hex
//! quantities).

use crate::primitives::{
    Address, Block, Bloom, Bytes, Header, Receipt, SignedTransaction, TxKind, TxType, B256,
};
use alloy_primitives::{U128, U64};
use serde::Serialize;
use serde_json::{json, Value};

/// A hex quantity.
pub(crate) fn q(n: u64) -> String {
    format!("{n:#x}")
}

/// Where a transaction sits in the chain.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Location {
    pub(crate) block_hash: B256,
    pub(crate) block_number: u64,
    pub(crate) index: u64,
    pub(crate) base_fee: Option<u64>,
}

/// A transaction object; `at` is `None` for a pooled transaction.
pub(crate) fn transaction(tx: &SignedTransaction, from: Address, at: Option<Location>) -> Value {
    let t = &tx.tx;
    let sig = &tx.signature;
    let v = match (t.tx_type, t.chain_id) {
        (TxType::Legacy, Some(id)) => id * 2 + 35 + u64::from(sig.y_parity),
        (TxType::Legacy, None) => 27 + u64::from(sig.y_parity),
        _ => u64::from(sig.y_parity),
    };
    let price = t.effective_gas_price(at.and_then(|l| l.base_fee));
    let mut out = json!({
        "hash": tx.hash(),
        "type": q(t.tx_type as u64),
        "nonce": q(t.nonce),
        "from": from,
        "to": match t.to { TxKind::Call(a) => json!(a), TxKind::Create => Value::Null },
        "value": t.value,
        "gas": q(t.gas_limit),
        "gasPrice": format!("{price:#x}"),
        "input": t.input,
        "v": q(v),
        "r": sig.r,
        "s": sig.s,
        "blockHash": at.map(|l| json!(l.block_hash)).unwrap_or(Value::Null),
        "blockNumber": at.map(|l| json!(q(l.block_number))).unwrap_or(Value::Null),
        "transactionIndex": at.map(|l| json!(q(l.index))).unwrap_or(Value::Null),
    });
    if let Some(id) = t.chain_id {
        out["chainId"] = json!(q(id));
    }
    if t.tx_type != TxType::Legacy {
        out["yParity"] = json!(q(u64::from(sig.y_parity)));
        out["accessList"] = t
            .access_list
            .iter()
            .map(|i| json!({"address": i.address, "storageKeys": i.storage_keys}))
            .collect();
    }
    if t.tx_type == TxType::Eip1559 {
        out["maxFeePerGas"] = json!(format!("{:#x}", t.max_fee_per_gas));
        out["maxPriorityFeePerGas"] = json!(format!("{:#x}", t.max_priority_fee_per_gas));
    }
    out
}

/// Bytes of `extraData` shown as such: Clique's signers and seal go to `proofOfAuthorityData`.
const SHOWN_EXTRA_DATA: usize = 32;

/// A header's fields as a block object (without transactions).
///
/// Clique's extra-data (vanity, signers, 65-byte seal) is longer than the 32 bytes that web3.py
/// and other clients accept for `extraData`; like web3.py's own proof-of-authority middleware,
/// the node shows the 32-byte vanity as `extraData` and the whole field as
/// `proofOfAuthorityData`, so those clients work without any middleware. The exact header is
/// `debug_getRawHeader`'s.
pub(crate) fn header(h: &Header) -> Value {
    let mut out = json!({
        "hash": h.hash(),
        "parentHash": h.parent_hash,
        "sha3Uncles": h.ommers_hash,
        "miner": h.beneficiary,
        "stateRoot": h.state_root,
        "transactionsRoot": h.transactions_root,
        "receiptsRoot": h.receipts_root,
        "logsBloom": h.logs_bloom,
        "difficulty": h.difficulty,
        "number": q(h.number),
        "gasLimit": q(h.gas_limit),
        "gasUsed": q(h.gas_used),
        "timestamp": q(h.timestamp),
        "extraData": Bytes::copy_from_slice(&h.extra_data[..h.extra_data.len().min(SHOWN_EXTRA_DATA)]),
        "mixHash": h.mix_hash,
        "nonce": format!("0x{}", hex::encode(h.nonce)),
        "uncles": [],
    });
    if h.extra_data.len() > SHOWN_EXTRA_DATA {
        out["proofOfAuthorityData"] = json!(h.extra_data);
    }
    if let Some(fee) = h.base_fee_per_gas {
        out["baseFeePerGas"] = json!(q(fee));
    }
    if let Some(root) = h.withdrawals_root {
        out["withdrawalsRoot"] = json!(root);
        out["withdrawals"] = json!([]);
    }
    if let Some(v) = h.blob_gas_used {
        out["blobGasUsed"] = json!(q(v));
    }
    if let Some(v) = h.excess_blob_gas {
        out["excessBlobGas"] = json!(q(v));
    }
    if let Some(v) = h.parent_beacon_block_root {
        out["parentBeaconBlockRoot"] = json!(v);
    }
    if let Some(v) = h.requests_hash {
        out["requestsHash"] = json!(v);
    }
    out
}

/// A block object with transaction hashes or full transactions.
pub(crate) fn block(b: &Block, senders: &[Address], full: bool) -> Value {
    let mut out = header(&b.header);
    let hash = b.header.hash();
    out["size"] = json!(q(b.encoded().len() as u64));
    out["transactions"] = b
        .transactions
        .iter()
        .zip(senders)
        .enumerate()
        .map(|(i, (tx, from))| {
            if full {
                let at = Location {
                    block_hash: hash,
                    block_number: b.header.number,
                    index: i as u64,
                    base_fee: b.header.base_fee_per_gas,
                };
                transaction(tx, *from, Some(at))
            } else {
                json!(tx.hash())
            }
        })
        .collect();
    out
}

/// A receipt object for the transaction at `index` of `block`, whose hash is `block_hash` (kept
/// by the caller: hashing the header again for every receipt and log was a tenth of a polling
/// client's cost). Typed rather than a `Value`, so it is written straight into the answer.
pub(crate) fn receipt(
    block: &Block,
    block_hash: B256,
    receipts: &[Receipt],
    index: usize,
    from: Address,
    first_log_index: usize,
) -> ReceiptJson {
    let tx = &block.transactions[index];
    let r = &receipts[index];
    let h = &block.header;
    let previous = if index == 0 { 0 } else { receipts[index - 1].cumulative_gas_used };
    let (block_number, transaction_index) = (U64::from(h.number), U64::from(index));
    let logs = r
        .logs
        .iter()
        .enumerate()
        .map(|(i, log)| LogJson {
            address: log.address,
            topics: log.topics().to_vec(),
            data: log.data.data.clone(),
            block_number,
            block_hash,
            transaction_hash: tx.hash(),
            transaction_index,
            log_index: U64::from(first_log_index + i),
            removed: false,
        })
        .collect();
    let to = match tx.tx.to {
        TxKind::Call(a) => Some(a),
        TxKind::Create => None,
    };
    ReceiptJson {
        transaction_hash: tx.hash(),
        transaction_index,
        block_hash,
        block_number,
        from,
        to,
        cumulative_gas_used: U64::from(r.cumulative_gas_used),
        gas_used: U64::from(r.cumulative_gas_used - previous),
        effective_gas_price: U128::from(tx.tx.effective_gas_price(h.base_fee_per_gas)),
        contract_address: to.is_none().then(|| from.create(tx.tx.nonce)),
        logs,
        logs_bloom: r.bloom(),
        tx_type: U64::from(tx.tx.tx_type as u64),
        status: U64::from(u64::from(r.success)),
    }
}

/// A receipt as go-ethereum answers it (`null` for `to` or `contractAddress` when absent).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReceiptJson {
    transaction_hash: B256,
    transaction_index: U64,
    block_hash: B256,
    block_number: U64,
    from: Address,
    to: Option<Address>,
    cumulative_gas_used: U64,
    gas_used: U64,
    effective_gas_price: U128,
    contract_address: Option<Address>,
    logs: Vec<LogJson>,
    logs_bloom: Bloom,
    #[serde(rename = "type")]
    tx_type: U64,
    status: U64,
}

/// A log of a mined transaction.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogJson {
    address: Address,
    topics: Vec<B256>,
    data: Bytes,
    block_number: U64,
    block_hash: B256,
    transaction_hash: B256,
    transaction_index: U64,
    log_index: U64,
    removed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::{Log, LogData, PrivateKey, Transaction, U256};

    /// The receipt as it was built before it was typed (a `Value` tree): the oracle.
    fn as_before(block: &Block, receipts: &[Receipt], index: usize, from: Address) -> Value {
        let (tx, r, h) = (&block.transactions[index], &receipts[index], &block.header);
        let previous = if index == 0 { 0 } else { receipts[index - 1].cumulative_gas_used };
        let first_log: usize = receipts[..index].iter().map(|r| r.logs.len()).sum();
        let logs: Vec<Value> = r
            .logs
            .iter()
            .enumerate()
            .map(|(i, log)| {
                json!({
                    "address": log.address, "topics": log.topics(), "data": log.data.data,
                    "blockNumber": q(h.number), "blockHash": h.hash(), "transactionHash": tx.hash(),
                    "transactionIndex": q(index as u64), "logIndex": q((first_log + i) as u64),
                    "removed": false,
                })
            })
            .collect();
        json!({
            "transactionHash": tx.hash(), "transactionIndex": q(index as u64),
            "blockHash": h.hash(), "blockNumber": q(h.number), "from": from,
            "to": match tx.tx.to { TxKind::Call(a) => json!(a), TxKind::Create => Value::Null },
            "cumulativeGasUsed": q(r.cumulative_gas_used),
            "gasUsed": q(r.cumulative_gas_used - previous),
            "effectiveGasPrice": format!("{:#x}", tx.tx.effective_gas_price(h.base_fee_per_gas)),
            "contractAddress": match tx.tx.to {
                TxKind::Create => json!(from.create(tx.tx.nonce)),
                TxKind::Call(_) => Value::Null,
            },
            "logs": logs, "logsBloom": r.bloom(), "type": q(tx.tx.tx_type as u64),
            "status": q(u64::from(r.success)),
        })
    }

    #[test]
    fn a_typed_receipt_answers_exactly_what_the_value_tree_did() {
        let key = PrivateKey::from_bytes(&B256::repeat_byte(7)).unwrap();
        let tx = |nonce, to, tx_type| {
            Transaction {
                tx_type,
                chain_id: Some(31337),
                nonce,
                max_priority_fee_per_gas: U256::from(2),
                max_fee_per_gas: U256::from(1_000_000_007u64),
                gas_limit: 100_000,
                to,
                value: U256::ZERO,
                input: Bytes::from_static(&[1, 2, 3]),
                access_list: vec![],
            }
            .sign(&key)
        };
        let contract = Address::repeat_byte(0xda);
        let log = |topics: Vec<B256>, data: &'static [u8]| Log {
            address: contract,
            data: LogData::new_unchecked(topics, Bytes::from_static(data)),
        };
        let header = Header {
            number: 0x1234,
            base_fee_per_gas: Some(7),
            gas_limit: 30_000_000,
            ..Header::default()
        };
        let block = Block::new(
            header,
            vec![
                tx(0, TxKind::Create, TxType::Eip1559),
                tx(1, TxKind::Call(contract), TxType::Legacy),
                tx(2, TxKind::Call(contract), TxType::Eip1559),
            ],
        );
        let receipt = |tx_type, success, cumulative_gas_used, logs| Receipt {
            tx_type,
            success,
            cumulative_gas_used,
            logs,
        };
        let receipts = vec![
            receipt(TxType::Eip1559, true, 60_000, vec![]),
            receipt(
                TxType::Legacy,
                true,
                110_000,
                vec![
                    log(vec![B256::repeat_byte(1), B256::repeat_byte(2)], b"\x05"),
                    log(vec![], b""),
                ],
            ),
            receipt(TxType::Eip1559, false, 131_000, vec![log(vec![B256::ZERO], b"\xff\x00")]),
        ];
        let from = key.address();
        let mut first_log = 0;
        for index in 0..3 {
            let typed = receipt_json(&block, &receipts, index, from, first_log);
            assert_eq!(typed, as_before(&block, &receipts, index, from), "receipt {index}");
            first_log += receipts[index].logs.len();
        }
        // The object's shape where it matters to clients: `null`s and the second log's index.
        let second = receipt_json(&block, &receipts, 1, from, 0);
        assert_eq!(second["contractAddress"], Value::Null);
        assert_eq!(second["logs"][1]["logIndex"], json!("0x1"));
        assert_eq!(receipt_json(&block, &receipts, 0, from, 0)["to"], Value::Null);
    }

    fn receipt_json(
        block: &Block,
        receipts: &[Receipt],
        index: usize,
        from: Address,
        first_log: usize,
    ) -> Value {
        let hash = block.header.hash();
        serde_json::to_value(receipt(block, hash, receipts, index, from, first_log)).unwrap()
    }
}
