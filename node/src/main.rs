//! The `daisee` command.
//!
//! At this stage it prints what the node will predeploy: the Daisee contract's interface, read
//! from the committed solc artifact.

use anyhow::Context as _;
use std::io::Write as _;

fn main() -> anyhow::Result<()> {
    let artifact: serde_json::Value =
        serde_json::from_str(daisee_contracts::DAISEE_ARTIFACT).context("reading the artifact")?;
    let version = artifact["compiler"]["version"].as_str().unwrap_or("?");
    let mut out = std::io::stdout().lock();
    writeln!(out, "Daisee contract (solc {version})")?;
    let methods = artifact["methodIdentifiers"].as_object().context("methodIdentifiers")?;
    for (signature, selector) in methods {
        writeln!(out, "  0x{}  {signature}", selector.as_str().unwrap_or("?"))?;
    }
    Ok(())
}
