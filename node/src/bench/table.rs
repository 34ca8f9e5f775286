//! The human-readable form of a [`BenchReport`].

use super::BenchReport;
use std::fmt::Write;

impl BenchReport {
    /// One line per workload, then the notes and peak memory.
    pub fn table(&self) -> String {
        let m = &self.machine;
        let mut out = format!(
            "daisee bench — {} ({}, {} cores), {} recovery threads\n\n",
            m.model, m.arch, m.cores, self.threads
        );
        let header = [
            "workload",
            "txs",
            "blocks",
            "recover/1",
            "recover/N",
            "seal tx/s",
            "seal Mg/s",
            "import tx/s",
            "imp Mg/s",
            "blk/s",
            "blk p99",
            "rpc tx/s",
            "rpc p50",
            "rpc p99",
            "rpc1 tx/s",
            "cpu µs/tx",
            "B/block",
        ];
        let widths = [14, 6, 6, 10, 10, 10, 9, 11, 8, 7, 7, 9, 8, 8, 10, 10, 9];
        for (i, (h, w)) in header.iter().zip(widths).enumerate() {
            let _ = if i == 0 { write!(out, "{h:<w$}") } else { write!(out, " {h:>w$}") };
        }
        out.push('\n');
        for r in &self.workloads {
            let cells = [
                format!("{:?}", r.workload),
                r.txs.to_string(),
                r.blocks.to_string(),
                format!("{:.0}", r.recovery_1.tx_per_s),
                format!("{:.0}", r.recovery_n.tx_per_s),
                format!("{:.0}", r.seal.tx_per_s),
                format!("{:.1}", r.seal.mgas_per_s),
                format!("{:.0}", r.import.tx_per_s),
                format!("{:.1}", r.import.mgas_per_s),
                format!("{:.1}", r.import.blocks_per_s),
                format!("{:.1}", r.import.p99_ms),
                format!("{:.0}", r.rpc.tx_per_s),
                format!("{:.1}", r.rpc.p50_ms),
                format!("{:.1}", r.rpc.p99_ms),
                format!("{:.0}", r.rpc_single.tx_per_s),
                format!("{:.0}", r.rpc_single_cpu_us),
                r.bytes_per_block.to_string(),
            ];
            for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
                let _ = if i == 0 { write!(out, "{c:<w$}") } else { write!(out, " {c:>w$}") };
            }
            out.push('\n');
        }
        for r in &self.workloads {
            let kinds: Vec<String> =
                r.logical_bytes_per_block.iter().map(|(k, b)| format!("{k} {b}")).collect();
            let _ = writeln!(out, "\n{:?}: B/block by kind: {}", r.workload, kinds.join(", "));
            if let Some(w) = r.write_calls_bytes_per_block {
                let _ = writeln!(out, "{:?}: B/block handed to write: {w}", r.workload);
            }
            let (batched, single) = r.rpc_blocks;
            let _ = writeln!(out, "{:?}: blocks sealed: rpc {batched}, rpc1 {single}", r.workload);
        }
        if !self.state_root.is_empty() {
            out += "\nstate size    block of 100 transfers    state commit + root    start-up trie build\n";
            for c in &self.state_root {
                let _ = writeln!(
                    out,
                    "{:>10} {:>17.1} ms {:>19.1} ms {:>19.1} ms",
                    c.accounts, c.block_ms, c.root_ms, c.rebuild_ms
                );
            }
        }
        if let Some(d) = &self.daybook {
            let rss: Vec<u64> = d.rss_mib.iter().map(|r| r.round() as u64).collect();
            let _ = writeln!(
                out,
                "\ndaybook on {} days of {} households ({} blocks, {} readings): indexed at {:.0} \
                 blocks/s, {} B per reading; a household's month {:.2} ms, the community's year \
                 {:.2} ms, a month's {} records {:.1} ms; RSS after each quarter {rss:?} MiB",
                d.days,
                d.households,
                d.blocks,
                d.readings,
                d.index_blocks_per_s,
                d.bytes_per_reading,
                d.household_month_ms,
                d.community_year_ms,
                d.records_month,
                d.records_month_ms
            );
        }
        out += "\nms: per block (blk) or per transaction from submission to its block (rpc); \
                rpc: batches of 100, rpc1: one transaction per request; cpu µs/tx: the node's CPU \
                time per transaction sent one per request (the client's own left out); \
                B/block: bytes the database wrote per imported block (its files' growth); by \
                kind: keys and values added, before sled's overhead; handed to write: bytes of \
                the process's write calls while importing, rewrites included.\n";
        let _ = write!(out, "peak RSS {:.1} MiB", self.peak_rss_mib);
        out
    }
}
