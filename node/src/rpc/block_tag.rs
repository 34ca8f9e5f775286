//! Block parameters: `latest`, `pending`, `earliest`, `safe`, `finalized`, or a number.

use super::RpcError;
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
}

impl BlockTag {
    /// Parses a tag or a hex number.
    pub fn parse(text: &str) -> Result<Self, RpcError> {
        Ok(match text {
            "latest" | "safe" | "finalized" => Self::Latest,
            "pending" => Self::Pending,
            "earliest" => Self::Earliest,
            other => {
                let hex = other.strip_prefix("0x").ok_or_else(|| {
                    RpcError::InvalidParams(format!("invalid block number {other:?}"))
                })?;
                Self::Number(u64::from_str_radix(hex, 16).map_err(|_| {
                    RpcError::InvalidParams(format!("invalid block number {other:?}"))
                })?)
            }
        })
    }

    /// The block number this tag means when the head is `head`.
    pub fn number(self, head: u64) -> u64 {
        match self {
            Self::Latest | Self::Pending => head,
            Self::Earliest => 0,
            Self::Number(n) => n,
        }
    }
}

impl<'de> Deserialize<'de> for BlockTag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}
