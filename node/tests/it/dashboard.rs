//! The community dashboard: served by the node on its HTTP port (embedded files, a strict
//! Content-Security-Policy, JSON-RPC and WebSocket untouched on the same port), and driven in
//! Debian's headless Chromium against a running `daisee dev` (tests/browser/dashboard.mjs:
//! figures equal JSON-RPC, a purchase through the unlocked dev account, no external request).
//! Screenshots land in `<target>/tmp/dashboard/`.

use crate::support::*;
use std::path::Path;
use std::process::Command;

#[test]
fn dev_serves_the_dashboard_beside_json_rpc_and_run_does_not_unless_asked() {
    let node = NodeProcess::start(&["dev", "--dev.no-meters"]);
    let (status, head, body) = http_get(&node.rpc, "/");
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/html"), "{head}");
    assert!(head.contains("content-security-policy: default-src 'none'"), "{head}");
    assert!(String::from_utf8_lossy(&body).contains("/dashboard/app.js"));
    let (status, head, _) = http_get(&node.rpc, "/dashboard/views/buy.js");
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/javascript"), "{head}");
    let (status, _, body) = http_get(&node.rpc, "/dashboard/config.json");
    assert_eq!(status, 200);
    let config: serde_json::Value = serde_json::from_slice(&body).expect("config JSON");
    assert_eq!(config["unlockedBuy"], true, "dev lets the page pay from its accounts");
    assert_eq!(http_get(&node.rpc, "/dashboard/../Cargo.toml").0, 404);
    assert_eq!(http_get(&node.rpc, "/dashboard/nothing.js").0, 404);
    // A browser that takes gzip gets the same file in a third of the bytes.
    let mut stream = std::net::TcpStream::connect(&node.rpc).expect("connect");
    let ask = format!(
        "GET /dashboard/data.js HTTP/1.1\r\nHost: {}\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n",
        node.rpc
    );
    std::io::Write::write_all(&mut stream, ask.as_bytes()).expect("send");
    let mut answer = Vec::new();
    std::io::Read::read_to_end(&mut stream, &mut answer).expect("read");
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").expect("head") + 4;
    let head = String::from_utf8_lossy(&answer[..split]).to_lowercase();
    assert!(head.contains("content-encoding: gzip"), "{head}");
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&answer[split..]), &mut unzipped)
        .expect("gzip");
    let (_, _, plain) = http_get(&node.rpc, "/dashboard/data.js");
    assert_eq!(unzipped, plain, "the same file");
    assert!(answer.len() - split < plain.len() / 2, "{} of {}", answer.len() - split, plain.len());
    // JSON-RPC on the same port is untouched.
    assert_eq!(node.ok("eth_chainId", serde_json::json!([])), "0x7a69");

    let off = NodeProcess::start(&["dev", "--dev.no-meters", "--dashboard=false"]);
    let (status, _, body) = http_get(&off.rpc, "/");
    assert_ne!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_ne!(http_get(&off.rpc, "/dashboard/app.js").0, 200);

    let datadir = TempDir::new("dashboard-run");
    daisee_ok(&["init", "../genesis/bf7.json", "--datadir", datadir.str()]);
    let run = NodeProcess::start(&["run", "--datadir", datadir.str(), "--http", "--nonetwork"]);
    assert_ne!(http_get(&run.rpc, "/").0, 200, "run serves no page unless --dashboard");
    drop(run);
    let run =
        NodeProcess::start(&["run", "--datadir", datadir.str(), "--dashboard", "--nonetwork"]);
    assert_eq!(http_get(&run.rpc, "/").0, 200, "--dashboard turns the HTTP server and the page on");
    let (_, _, body) = http_get(&run.rpc, "/dashboard/config.json");
    let config: serde_json::Value = serde_json::from_slice(&body).expect("config JSON");
    assert_eq!(config["unlockedBuy"], false, "run pays from no account unless --dashboard.buy");
}

fn browser_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/browser"))
}

#[test]
fn the_vendored_chart_library_is_the_pinned_release() {
    let dist = browser_dir().join("node_modules/uplot/dist");
    assert!(dist.exists(), "uplot is not installed: run `npm ci --prefix tests/browser`");
    let vendored = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/dashboard/vendor/uplot-1.6.32"));
    for file in ["uPlot.iife.min.js", "uPlot.min.css"] {
        let a = std::fs::read(dist.join(file)).expect("npm copy");
        let b = std::fs::read(vendored.join(file)).expect("vendored copy");
        assert!(a == b, "{file} differs from uplot@1.6.32 on npm");
    }
    let package = std::fs::read_to_string(browser_dir().join("node_modules/uplot/package.json"))
        .expect("package.json");
    assert!(package.contains("\"version\": \"1.6.32\""));
}

#[test]
fn chromium_shows_what_json_rpc_says_and_buys_energy() {
    let dir = browser_dir();
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "playwright-core is not installed: run `bash tests/run` (npm ci --prefix tests/browser)"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "Chromium is not installed: run `bash tests/run` (apt-get install chromium)"
    );
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard");
    let _ = std::fs::remove_dir_all(&out);
    // Households report every 2 s of wall time (300 simulated s at 150x), seen through a
    // Linky's frames (read by the real TIC decoder), as a household trying the source would.
    let node =
        NodeProcess::start(&["dev", "--dev.meter-speed", "150", "--dev.meter-source", "tic"]);
    let output = Command::new("node")
        .arg(dir.join("dashboard.mjs"))
        .arg(format!("http://{}/", node.rpc))
        .arg(&out)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the browser test failed:\n{stdout}\n{stderr}");
    eprintln!("{}\nscreenshots in {}", stdout.trim(), out.display());
    for view in ["home", "community", "chain", "buy", "home-after-purchase", "home-phone-fr"] {
        assert!(out.join(format!("{view}.png")).exists(), "screenshot of {view}");
    }
}
