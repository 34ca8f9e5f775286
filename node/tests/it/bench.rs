//! `daisee bench` runs end to end and reports every figure (the figures themselves are for
//! people, not for assertions).

use crate::support::*;
use serde_json::Value;

#[test]
fn bench_reports_every_stage_of_every_workload_as_json() {
    let out = daisee_ok(&[
        "bench",
        "--txs",
        "120",
        "--accounts",
        "6",
        "--block-txs",
        "40",
        "--state-sizes",
        "100,2000",
        "--history-days",
        "4",
        "--json",
    ]);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert!(report["machine"]["cores"].as_u64().unwrap() >= 1);
    assert!(report["peakRssMib"].as_f64().unwrap() > 0.0);
    let workloads = report["workloads"].as_array().unwrap();
    assert_eq!(workloads.len(), 3);
    for w in workloads {
        assert_eq!(w["txs"], 120, "{w}");
        assert_eq!(w["blocks"], 3, "{w}");
        for stage in ["recovery1", "recoveryN", "seal", "import"] {
            assert!(w[stage]["txPerS"].as_f64().unwrap() > 0.0, "{stage}: {w}");
        }
        assert!(w["import"]["mgasPerS"].as_f64().unwrap() > 0.0);
        assert!(w["bytesPerBlock"].as_u64().unwrap() > 0);
    }
    let sizes = report["stateRoot"].as_array().unwrap();
    assert_eq!(sizes.len(), 2);
    assert!(sizes[1]["accounts"].as_u64().unwrap() > 2000);
    assert!(sizes.iter().all(|c| c["blockMs"].as_f64().unwrap() > 0.0));
    let daybook = &report["daybook"];
    assert_eq!(daybook["days"], 4);
    assert_eq!(daybook["rssMib"].as_array().unwrap().len(), 4);
    assert!(daybook["readings"].as_u64().unwrap() > 800, "{daybook}");
    assert!(daybook["indexBlocksPerS"].as_f64().unwrap() > 0.0);
    assert!(daybook["recordsMonth"].as_u64().unwrap() > 250, "{daybook}");
    let bad = daisee().args(["bench", "--workload", "mining"]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown workload"));
}
