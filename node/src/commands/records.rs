//! `daisee records`: a household's readings, sales and purchases of a period, from a running
//! node's daybook (`daisee_records`, page by page), as CSV or JSON with units in the header — the
//! same file the dashboard's History view saves.

use crate::attach::connect;
use crate::cli::RecordsArgs;
use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::io::Write;

/// The CSV header (the dashboard writes the same).
pub const CSV_HEADER: &str = "type,time_utc,unix_time_s,block,log_index,produced_Wh,consumed_Wh,energy_Wh,amount_wei,counterparty,via";

/// `daisee records`.
pub fn records(args: RecordsArgs) -> anyhow::Result<()> {
    let mut node = connect(args.endpoint.clone(), args.datadir.clone())?;
    let (mut rows, mut after, mut zone) = (Vec::new(), None::<String>, Value::Null);
    for id in 1.. {
        let mut query = json!({ "meter": args.meter, "from": args.from, "to": args.to });
        if let Some(cursor) = &after {
            query["after"] = json!(cursor);
        }
        let request =
            json!({ "jsonrpc": "2.0", "id": id, "method": "daisee_records", "params": [query] });
        let answer = node.call(&request)?;
        if let Some(error) = answer.get("error") {
            bail!("the node refused: {}", error["message"].as_str().unwrap_or("unknown error"));
        }
        let page = &answer["result"];
        zone = page["timeZone"].clone();
        let records = page["records"].as_array().context("the node's answer has no records")?;
        for r in records {
            rows.push(row(r)?);
        }
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => break,
        }
    }
    let text = match args.format.as_str() {
        "json" => {
            let units = json!({ "time_utc": "ISO 8601, UTC", "unix_time_s": "s", "produced_Wh": "Wh",
                "consumed_Wh": "Wh", "energy_Wh": "Wh", "amount_wei": "wei" });
            let records: Vec<Value> = rows
                .iter()
                .map(|r| {
                    let fields = CSV_HEADER.split(',').zip(r.iter());
                    Value::Object(fields.map(|(k, v)| (k.to_string(), json!(v))).collect())
                })
                .collect();
            let doc = json!({ "meter": args.meter, "from": args.from, "to": args.to,
                "timeZone": zone, "units": units, "records": records });
            serde_json::to_string_pretty(&doc)? + "\n"
        }
        _ => {
            let mut text = format!("{CSV_HEADER}\n");
            for r in &rows {
                text += &r.join(",");
                text.push('\n');
            }
            text
        }
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    eprintln!("{} records of {} from {} to {}", rows.len(), args.meter, args.from, args.to);
    Ok(())
}

/// A hex quantity as a decimal string ("" when absent).
fn decimal(v: &Value) -> anyhow::Result<String> {
    match v.as_str() {
        None => Ok(String::new()),
        Some(hex) => {
            Ok(daisee_node::primitives::U256::from_str_radix(hex.trim_start_matches("0x"), 16)
                .with_context(|| format!("not a quantity: {hex}"))?
                .to_string())
        }
    }
}

/// One record as the CSV's fields, in the header's order.
fn row(r: &Value) -> anyhow::Result<Vec<String>> {
    let time = r["time"].as_u64().context("a record without time")?;
    let utc = jiff::Timestamp::from_second(i64::try_from(time)?)?;
    let text = |k: &str| r[k].as_str().unwrap_or_default().to_string();
    Ok(vec![
        text("type"),
        utc.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        time.to_string(),
        decimal(&r["block"])?,
        decimal(&r["logIndex"])?,
        decimal(&r["producedWh"])?,
        decimal(&r["consumedWh"])?,
        decimal(&r["energyWh"])?,
        decimal(&r["wei"])?,
        text("counterparty").to_lowercase(),
        text("via"),
    ])
}
