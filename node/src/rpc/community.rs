//! `daisee_community`: the community at the head in one answer, for dashboards of a town's size —
//! how many households, their totals, a page of them (searched by address, sorted by what they
//! produced, consumed or have to sell) or the ones asked for by address, and the community's
//! production and consumption per interval over the last 24 h (from the daybook). Figures are
//! the contract's (see `households.rs`); a page is at most [`MAX_PAGE`] households.

use super::evm_calls::evm_method;
use super::households::{Cache, Household, Households};
use super::limits::RpcLimits;
use super::RpcError;
use crate::daybook::{Daybook, QueryError};
use crate::node::Node;
use crate::primitives::{Address, U256};
use jsonrpsee::RpcModule;
use serde::Deserialize;
use serde_json::{json, Value};

/// Households in one answer at most.
pub(super) const MAX_PAGE: usize = 1000;
/// Households in one answer unless asked.
const DEFAULT_PAGE: usize = 50;
/// The chart's span: the day before the newest interval.
const DAY_S: u64 = 86_400;

pub(super) fn register(
    m: &mut RpcModule<Node>,
    limits: &RpcLimits,
    daybook: Option<&Daybook>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    let cache = Cache::default();
    let book = daybook.cloned();
    evm_method(m, "daisee_community", limits, move |params, node, limits| {
        let mut seq = params.sequence();
        let q: Option<Query> = seq.optional_next()?;
        let q = q.unwrap_or_default();
        let page = q.page()?;
        let all = cache.at_head(node, limits)?;
        let intervals = match &book {
            Some(book) => last_day(book)?,
            None => Value::Null,
        };
        Ok(answer(&all, &page, intervals))
    })
}

/// The one parameter (every field optional).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Query {
    /// Skip this many households of the sorted, searched list.
    #[serde(default)]
    offset: Option<usize>,
    /// Households in the answer (≤ [`MAX_PAGE`]).
    #[serde(default)]
    limit: Option<usize>,
    /// Keep households whose address contains these hex digits.
    #[serde(default)]
    search: Option<String>,
    /// `registration` (the contract's order), `produced`, `consumed` or `net` (largest first).
    #[serde(default)]
    sort: Option<String>,
    /// These households instead of a page (≤ [`MAX_PAGE`]; unknown ones are left out).
    #[serde(default)]
    addresses: Option<Vec<Address>>,
}

/// A page, checked.
struct Page {
    offset: usize,
    limit: usize,
    search: Option<String>,
    sort: Sort,
    addresses: Option<Vec<Address>>,
}

#[derive(Clone, Copy)]
enum Sort {
    Registration,
    Produced,
    Consumed,
    Net,
}

impl Query {
    fn page(self) -> Result<Page, RpcError> {
        let limit = self.limit.unwrap_or(DEFAULT_PAGE);
        if limit > MAX_PAGE {
            return Err(RpcError::InvalidParams(format!(
                "limit {limit} is over {MAX_PAGE} households per answer"
            )));
        }
        if self.addresses.as_ref().is_some_and(|a| a.len() > MAX_PAGE) {
            return Err(RpcError::InvalidParams(format!(
                "at most {MAX_PAGE} addresses per question"
            )));
        }
        let search = match self.search {
            Some(text) => {
                let digits = text.strip_prefix("0x").unwrap_or(&text).to_ascii_lowercase();
                if digits.len() > 40 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(RpcError::InvalidParams(format!(
                        "search {text:?}: expected up to 40 hex digits of an address"
                    )));
                }
                (!digits.is_empty()).then_some(digits)
            }
            None => None,
        };
        let sort = match self.sort.as_deref() {
            None | Some("registration") => Sort::Registration,
            Some("produced") => Sort::Produced,
            Some("consumed") => Sort::Consumed,
            Some("net") => Sort::Net,
            Some(other) => {
                return Err(RpcError::InvalidParams(format!(
                    "sort {other:?}: expected registration, produced, consumed or net"
                )))
            }
        };
        Ok(Page {
            offset: self.offset.unwrap_or(0),
            limit,
            search,
            sort,
            addresses: self.addresses,
        })
    }
}

fn answer(all: &Households, page: &Page, intervals: Value) -> Value {
    let list = &all.list;
    let mut produced = U256::ZERO;
    let mut consumed = U256::ZERO;
    let mut escrow = U256::ZERO;
    let mut surplus = U256::ZERO;
    let mut sellers = 0usize;
    for h in list {
        produced = produced.saturating_add(h.produced);
        consumed = consumed.saturating_add(h.consumed);
        escrow = escrow.saturating_add(h.escrow);
        if h.net.is_positive() {
            surplus = surplus.saturating_add(h.net.into_raw());
            sellers += 1;
        }
    }
    let (matching, rows): (usize, Vec<&Household>) = match &page.addresses {
        Some(wanted) => {
            let rows: Vec<&Household> =
                wanted.iter().filter_map(|a| list.iter().find(|h| h.address == *a)).collect();
            (rows.len(), rows)
        }
        None => {
            let mut found: Vec<&Household> = match &page.search {
                Some(digits) => list
                    .iter()
                    .filter(|h| hex::encode(h.address.as_slice()).contains(digits.as_str()))
                    .collect(),
                None => list.iter().collect(),
            };
            match page.sort {
                Sort::Registration => {}
                Sort::Produced => found.sort_by_key(|h| std::cmp::Reverse(h.produced)),
                Sort::Consumed => found.sort_by_key(|h| std::cmp::Reverse(h.consumed)),
                Sort::Net => found.sort_by_key(|h| std::cmp::Reverse(h.net)),
            }
            let matching = found.len();
            (matching, found.into_iter().skip(page.offset).take(page.limit).collect())
        }
    };
    let header = &all.header;
    json!({
        "block": format!("{:#x}", header.number),
        "hash": all.hash,
        "moving": all.moving,
        "timestamp": format!("{:#x}", header.timestamp),
        "rate": all.rate.to_string(),
        "households": list.len(),
        "matching": matching,
        "offset": if page.addresses.is_some() { 0 } else { page.offset },
        "totals": {
            "producedWh": produced.to_string(),
            "consumedWh": consumed.to_string(),
            "escrowWei": escrow.to_string(),
            "surplusWh": surplus.to_string(),
            "sellers": sellers,
        },
        "page": rows.iter().map(|h| row(h)).collect::<Vec<_>>(),
        "intervals": intervals,
    })
}

/// One household as the dashboard shows it (amounts as decimal strings: they pass 2^53).
fn row(h: &Household) -> Value {
    json!({
        "index": h.index,
        "address": h.address,
        "producedWh": h.produced.to_string(),
        "consumedWh": h.consumed.to_string(),
        "netWh": h.net.to_string(),
        "lastInterval": h.last_interval,
        "escrowWei": h.escrow.to_string(),
    })
}

/// The community's readings per interval over the day before the newest interval indexed.
fn last_day(book: &Daybook) -> Result<Value, RpcError> {
    let query = |e: QueryError| match e {
        QueryError::Invalid(msg) => RpcError::InvalidParams(msg),
        QueryError::Store(e) => e.into(),
    };
    let Some(newest) = book.newest_interval().map_err(query)? else {
        return Ok(json!([]));
    };
    let intervals = book.intervals(newest.saturating_sub(DAY_S - 1), newest).map_err(query)?;
    Ok(json!(intervals
        .into_iter()
        .map(|(end, t)| json!({
            "end": end,
            "producedWh": t.produced_wh.to_string(),
            "consumedWh": t.consumed_wh.to_string(),
            "readings": t.readings,
        }))
        .collect::<Vec<_>>()))
}
