//! Block parameters: `latest`, `pending`, `earliest`, `safe`, `finalized`, a number, or an
//! EIP-1898 object (`{"blockNumber": …}` / `{"blockHash": …}`).

use super::RpcError;
use crate::node::Node;
use crate::primitives::{Header, B256};
use serde::{Deserialize, Deserializer};

/// Which block a request means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BlockTag {
    /// The head (also `safe` and `finalized`: a Clique block is final once sealed here).
    #[default]
    Latest,
    /// The head plus the pool.
    Pending,
    /// Block 0.
    Earliest,
    /// A block number.
    Number(u64),
    /// A block hash.
    Hash(B256),
}

impl BlockTag {
    /// Parses a tag or a hex number.
    pub fn parse(text: &str) -> Result<Self, RpcError> {
        let bad = || RpcError::InvalidParams(format!("invalid block number {text:?}"));
        Ok(match text {
            "latest" | "safe" | "finalized" => Self::Latest,
            "pending" => Self::Pending,
            "earliest" => Self::Earliest,
            other => {
                let hex = other.strip_prefix("0x").ok_or_else(bad)?;
                if hex.len() == 64 {
                    Self::Hash(other.parse().map_err(|_| bad())?)
                } else {
                    Self::Number(u64::from_str_radix(hex, 16).map_err(|_| bad())?)
                }
            }
        })
    }

    /// The block number this tag means when the head is `head` (`None` for an unknown hash).
    pub fn number(self, node: &Node) -> Result<Option<u64>, RpcError> {
        let head = node.head().number;
        Ok(match self {
            Self::Latest | Self::Pending => Some(head),
            Self::Earliest => Some(0),
            Self::Number(n) => Some(n),
            Self::Hash(h) => match node.store().header(&h)? {
                Some(header) if node.store().canonical_hash(header.number)? == Some(h) => {
                    Some(header.number)
                }
                _ => None,
            },
        })
    }

    /// The canonical header this tag means, if it exists. `latest` is the head itself: never
    /// missing, even when a reorg to a shorter branch lands between reading the head's number
    /// and reading the block at that number.
    pub fn header(self, node: &Node) -> Result<Option<Header>, RpcError> {
        if matches!(self, Self::Latest | Self::Pending) {
            return Ok(Some(node.head()));
        }
        match self.number(node)? {
            Some(n) => Ok(node.store().header_by_number(n)?),
            None => Ok(None),
        }
    }

    /// For state reads: `None` for the head state (`latest`, `pending`), `Some(n)` for a block
    /// named by number or hash (the head's included: a block sealed during the read does not
    /// leak into it); an error for a block that does not exist.
    pub fn state_at(self, node: &Node) -> Result<Option<u64>, RpcError> {
        // The tag first, the head after: a block sealed in between makes `latest` an older
        // block (read through its changesets), never one beyond the head.
        let number = self.number(node)?;
        let head = node.head().number;
        match number {
            // A block asked by number or hash stays that block even if one is sealed meanwhile.
            Some(n) if n == head && matches!(self, Self::Latest | Self::Pending) => Ok(None),
            Some(n) if n == head => Ok(Some(n)),
            Some(n) if n < head => Ok(Some(n)),
            Some(n) => Err(RpcError::UnknownBlock(format!("block {n} not found"))),
            None => Err(RpcError::UnknownBlock("block not found".into())),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Raw {
    Text(String),
    Object {
        #[serde(rename = "blockNumber")]
        number: Option<String>,
        #[serde(rename = "blockHash")]
        hash: Option<B256>,
    },
}

impl<'de> Deserialize<'de> for BlockTag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Raw::deserialize(d)? {
            Raw::Text(text) => Self::parse(&text).map_err(serde::de::Error::custom),
            Raw::Object { hash: Some(h), .. } => Ok(Self::Hash(h)),
            Raw::Object { number: Some(n), .. } => {
                Self::parse(&n).map_err(serde::de::Error::custom)
            }
            Raw::Object { .. } => {
                Err(serde::de::Error::custom("expected blockNumber or blockHash"))
            }
        }
    }
}
