// viem against a Daisee node, over HTTP and WebSocket, as wagmi-based DApps use it: deploys a
// fresh Daisee, writes and reads it, waits for receipts, reads logs with a topic filter, watches
// blocks and contract events over WebSocket (which needs string subscription ids, as
// go-ethereum's), and decodes custom-error reverts.
// Usage: node viem-daisee.mjs <host:port>   (exit code 0 when every check holds)
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import {
  BaseError, ContractFunctionRevertedError, createPublicClient, createWalletClient, defineChain,
  http, webSocket, zeroAddress,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

const endpoint = process.argv[2];
const artifact = JSON.parse(readFileSync(new URL('../../evm-contracts/out/Daisee.json', import.meta.url)));
const { abi } = artifact;
const chain = defineChain({
  id: 31337,
  name: 'Daisee dev',
  nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: [`http://${endpoint}`], webSocket: [`ws://${endpoint}`] } },
});
const overHttp = createPublicClient({ chain, transport: http(), pollingInterval: 100 });
const overWs = createPublicClient({ chain, transport: webSocket() });
// Dev accounts 0..2 of the standard test mnemonic.
const [owner, seller, buyer] = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
].map((key) => createWalletClient({ account: privateKeyToAccount(key), chain, transport: http() }));

/** Resolves with the first value `watch(resolve)` hands over, or fails after `ms`. */
function first(what, watch, ms = 20_000) {
  return new Promise((resolve, reject) => {
    let unwatch = () => {};
    const timer = setTimeout(() => { unwatch(); reject(new Error(`no ${what} within ${ms} ms`)); }, ms);
    unwatch = watch((value) => { clearTimeout(timer); unwatch(); resolve(value); });
  });
}

async function main() {
  assert.equal(await overHttp.getChainId(), 31337);

  // Deploy and wait for the receipt.
  const deploy = await owner.deployContract({ abi, bytecode: artifact.bytecode, args: [zeroAddress, 0n, [seller.account.address], 900n, 0n] });
  const deployed = await overHttp.waitForTransactionReceipt({ hash: deploy });
  assert.equal(deployed.status, 'success');
  const address = deployed.contractAddress;
  assert.equal(await overHttp.readContract({ address, abi, functionName: 'owner' }), owner.account.address);

  // Live over WebSocket: new blocks, and the seller's Reading (topic filter on the meter).
  const block = first('block', (done) => overWs.watchBlocks({ onBlock: done, emitOnBegin: false }));
  const reading = first('Reading event', (done) => overWs.watchContractEvent({
    address, abi, eventName: 'Reading', args: { meter: seller.account.address },
    onLogs: (logs) => done(logs[0]),
  }));
  // Let the subscriptions reach the node before the transaction.
  await new Promise((r) => setTimeout(r, 300));

  // A write, its receipt, and reads: a reading for the last interval (900 s) over on chain.
  const head = await overHttp.getBlock();
  const end = head.timestamp - (head.timestamp % 900n);
  const { request } = await overHttp.simulateContract({
    account: seller.account, address, abi, functionName: 'reportReading', args: [end, 1000n, 100n],
  });
  const hash = await seller.writeContract(request);
  const receipt = await overHttp.waitForTransactionReceipt({ hash });
  assert.equal(receipt.status, 'success');
  assert.equal(await overHttp.readContract({ address, abi, functionName: 'energyBalanceOf', args: [seller.account.address] }), 900n);

  const seenBlock = await block;
  assert.ok(seenBlock.number >= receipt.blockNumber - 1n, `block ${seenBlock.number}`);
  const seenReading = await reading;
  assert.equal(seenReading.args.meter, seller.account.address);
  assert.equal(seenReading.args.intervalEnd, end);
  assert.equal(seenReading.transactionHash, hash);

  // Logs over HTTP with a topic filter: the seller's readings, none for the buyer.
  const mine = await overHttp.getContractEvents({ address, abi, eventName: 'Reading', args: { meter: seller.account.address }, fromBlock: 0n });
  assert.equal(mine.length, 1);
  assert.equal(mine[0].args.producedWh, 1000n);
  const none = await overHttp.getContractEvents({ address, abi, eventName: 'Reading', args: { meter: buyer.account.address }, fromBlock: 0n });
  assert.equal(none.length, 0);

  // A revert decoded as its custom error: the buyer is not a meter.
  try {
    await overHttp.simulateContract({ account: buyer.account, address, abi, functionName: 'setProduction', args: [1n] });
    assert.fail('setProduction by a non-meter must revert');
  } catch (e) {
    assert.ok(e instanceof BaseError, String(e));
    const reverted = e.walk((x) => x instanceof ContractFunctionRevertedError);
    assert.equal(reverted?.data?.errorName, 'NotMeter', e.shortMessage);
    assert.equal(reverted.data.args[0], buyer.account.address);
  }

  // Buying with value pays the seller energy * rate.
  const rate = await overHttp.readContract({ address, abi, functionName: 'rate' });
  const before = await overHttp.getBalance({ address: seller.account.address });
  const buy = await buyer.writeContract({ address, abi, functionName: 'buyEnergy', args: [seller.account.address, 300n], value: 300n * rate });
  assert.equal((await overHttp.waitForTransactionReceipt({ hash: buy })).status, 'success');
  assert.equal((await overHttp.getBalance({ address: seller.account.address })) - before, 300n * rate);

  await overWs.transport.getRpcClient().then((c) => c.close());
  console.log(`viem: all checks passed against ${endpoint}`);
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});
