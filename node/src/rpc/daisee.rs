//! The `daisee_` namespace: what this board's meters are doing (`daisee_meters`: readings
//! waiting in the outbox, confirmed reports, reverts and their reason, each sensor's last sample,
//! battery and frame counters), and the community's history from the daybook: totals per local
//! day (`daisee_days`) and a household's readings and trades, page by page (`daisee_records`).

use super::error::RpcError;
use super::method;
use crate::daybook::{Date, Daybook, Entry, Located, QueryError, Role, MAX_RECORDS};
use crate::meter::StatusBoard;
use crate::node::Node;
use crate::primitives::Address;
use jsonrpsee::RpcModule;
use serde::Deserialize;
use serde_json::{json, Value};

pub(super) fn register(
    m: &mut RpcModule<Node>,
    meters: &StatusBoard,
    daybook: Option<&Daybook>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    let meters = meters.clone();
    method(m, "daisee_meters", move |_, _| Ok(json!(meters.all())))?;
    let book = daybook.cloned();
    method(m, "daisee_days", move |params, _| {
        let q: DaysQuery = params.one()?;
        let book = book.as_ref().ok_or_else(off)?;
        let days = book.days(q.meter.as_ref(), q.from, q.to).map_err(query_error)?;
        let days: Vec<Value> = days
            .into_iter()
            .map(|(date, totals)| {
                let mut day = json!(totals);
                day["date"] = json!(date.to_string());
                day
            })
            .collect();
        Ok(json!({ "timeZone": book.zone_name(), "indexedBlock": indexed(book)?, "days": days }))
    })?;
    let book = daybook.cloned();
    method(m, "daisee_records", move |params, _| {
        let q: RecordsQuery = params.one()?;
        let book = book.as_ref().ok_or_else(off)?;
        let limit = q.limit.unwrap_or(MAX_RECORDS);
        let page =
            book.records(&q.meter, q.from, q.to, q.after.as_deref(), limit).map_err(query_error)?;
        let records: Vec<Value> = page.records.iter().map(|(role, l)| record(*role, l)).collect();
        Ok(json!({
            "timeZone": book.zone_name(),
            "indexedBlock": indexed(book)?,
            "records": records,
            "next": page.next,
        }))
    })?;
    Ok(())
}

/// `daisee_days`' one parameter.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DaysQuery {
    /// A household; the whole community when absent.
    #[serde(default)]
    meter: Option<Address>,
    from: Date,
    to: Date,
}

/// `daisee_records`' one parameter.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordsQuery {
    meter: Address,
    from: Date,
    to: Date,
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
}

fn off() -> RpcError {
    RpcError::Internal("this node keeps no daybook".into())
}

fn query_error(e: QueryError) -> RpcError {
    match e {
        QueryError::Invalid(msg) => RpcError::InvalidParams(msg),
        QueryError::Store(e) => e.into(),
    }
}

fn indexed(book: &Daybook) -> Result<Value, RpcError> {
    Ok(json!(book.cursor()?.map(|c| format!("{:#x}", c.number))))
}

/// One record as the household sees it.
fn record(role: Role, l: &Located) -> Value {
    let mut out = match (&l.entry, role) {
        (Entry::Reading { interval_end, produced, consumed, .. }, _) => json!({
            "type": "reading",
            "time": interval_end,
            "producedWh": produced,
            "consumedWh": consumed,
        }),
        (Entry::Trade { buyer, seller, energy, wei, settled }, role) => json!({
            "type": if role == Role::Sold { "sold" } else { "bought" },
            "time": l.time,
            "energyWh": energy,
            "wei": wei,
            "counterparty": if role == Role::Sold { buyer } else { seller },
            "via": if *settled { "settlement" } else { "purchase" },
        }),
        (Entry::Rate { .. }, _) => json!({ "type": "rate" }),
    };
    out["block"] = json!(format!("{:#x}", l.block));
    out["logIndex"] = json!(format!("{:#x}", l.log_index));
    out
}
