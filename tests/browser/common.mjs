// What the browser tests share: JSON-RPC to the node, read on their own with ethers and the
// contract's ABI from its build, and Debian's headless Chromium launched as the project's tests
// run it — a fresh profile, no sandbox, GPU, QUIC or background traffic, every request to
// anywhere but the node aborted and noted, console messages and page errors collected.

import { chromium } from 'playwright-core';
import { ethers } from 'ethers';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The Daisee contract's address on every community chain. */
export const DAISEE = '0xda15ee0000000000000000000000000000000001';
const artifact = JSON.parse(readFileSync(join(here, '../../evm-contracts/out/Daisee.json'), 'utf8'));
/** The Daisee contract's ABI. */
export const daisee = new ethers.Interface(artifact.abi);
/** A JSON-RPC quantity. */
export const hex = (n) => '0x' + n.toString(16);

/** A JSON-RPC client of the node at `url`: one call, a batch, the contract's views at a block. */
export function rpcClient(url) {
  let id = 0;
  const post = async (body) => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body) });
    return response.json();
  };
  async function rpc(method, params = []) {
    const answer = await post({ jsonrpc: '2.0', id: ++id, method, params });
    if (answer.error) throw new Error(`${method}: ${answer.error.message}`);
    return answer.result;
  }
  async function rpcBatch(calls) {
    const body = calls.map(([method, params]) => ({ jsonrpc: '2.0', id: ++id, method, params }));
    const answers = await post(body);
    return body.map((b) => {
      const a = answers.find((x) => x.id === b.id);
      if (a.error) throw new Error(`${b.method}: ${a.error.message}`);
      return a.result;
    });
  }
  const callOf = (fn, args, block) => ['eth_call', [{ to: DAISEE, data: daisee.encodeFunctionData(fn, args) }, hex(block)]];
  /** The contract's view `fn(args)` at `block`. */
  async function view(fn, args, block) {
    const data = await rpc(...callOf(fn, args, block));
    return daisee.decodeFunctionResult(fn, data)[0];
  }
  /** `fn(args)` for each of `argsList` at `block`, in one batch. */
  async function views(fn, argsList, block) {
    const answers = await rpcBatch(argsList.map((args) => callOf(fn, args, block)));
    return answers.map((data) => daisee.decodeFunctionResult(fn, data)[0]);
  }
  return { rpc, rpcBatch, view, views };
}

/**
 * Headless Chromium on a fresh profile, showing the node at `url`. `consoleTypes`: the console
 * messages that count as problems; `protocols`: schemes besides the node's origin that may load.
 * Returns the context, its page, the requests that tried to leave (`external`), the problems
 * seen, and `close()`, which also removes the profile.
 */
export async function openBrowser(url, { timezoneId = 'UTC', acceptDownloads = false, protocols = ['data:'],
  consoleTypes = ['error'] } = {}) {
  const origin = new URL(url).origin;
  const userDataDir = mkdtempSync(join(tmpdir(), 'daisee-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
    timezoneId,
    locale: 'en-GB',
    acceptDownloads,
  });
  const external = [];
  const problems = [];
  await context.route('**/*', (route) => {
    const target = new URL(route.request().url());
    if (target.origin === origin || protocols.includes(target.protocol)) return route.continue();
    external.push(target.href);
    return route.abort();
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on('websocket', (ws) => new URL(ws.url()).host !== new URL(url).host && external.push(ws.url()));
  page.on('console', (m) => consoleTypes.includes(m.type()) && problems.push(`console ${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  const close = async () => {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  };
  return { context, page, external, problems, close };
}

/** A function that opens a view of the page by its route (`#/home`) and waits until it shows. */
export function router(page, timeout) {
  return async (route) => {
    await page.evaluate((r) => (location.hash = r), route);
    await page.waitForSelector(`#view[data-view="${route.slice(2)}"]`, { timeout });
  };
}
