// ethers v6 against a Daisee node, over HTTP and WebSocket: deploys a fresh Daisee with EIP-1559
// transactions, calls every function, reads events with getLogs and a live subscription, buys
// energy with value (the seller is paid), estimates gas, decodes a custom-error revert.
// Usage: node ethers-daisee.mjs <host:port>   (exit code 0 when every check holds)
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { ethers } from 'ethers';

const endpoint = process.argv[2];
const artifact = JSON.parse(readFileSync(new URL('../../evm-contracts/out/Daisee.json', import.meta.url)));
const http = new ethers.JsonRpcProvider(`http://${endpoint}`, undefined, { staticNetwork: true, pollingInterval: 100, cacheTimeout: -1 });
const ws = new ethers.WebSocketProvider(`ws://${endpoint}`);
// Dev accounts 0..3 of the standard test mnemonic.
const keys = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
];
// The seller reports readings; the bridge, a meter of 2016, uses setProduction / consumeEnergy (a
// meter uses one interface or the other, never both).
const [owner, seller, buyer, bridge] = keys.map((k) => new ethers.NonceManager(new ethers.Wallet(k, http)));
const addr = async (s) => s.getAddress();

async function main() {
  const network = await http.getNetwork();
  assert.equal(network.chainId, 31337n);

  // Deploy a fresh Daisee (EIP-1559), owner = deployer, default rate, seller and bridge
  // registered, 900 s intervals with the default grace.
  const factory = new ethers.ContractFactory(artifact.abi, artifact.bytecode, owner);
  const daisee = await factory.deploy(ethers.ZeroAddress, 0, [await addr(seller), await addr(bridge)], 900, 0);
  const deployTx = daisee.deploymentTransaction();
  assert.equal(deployTx.type, 2, 'EIP-1559 deployment');
  await daisee.waitForDeployment();
  const address = await daisee.getAddress();
  assert.ok((await http.getCode(address)).length > 2);

  const asOwner = daisee.connect(owner);
  const asSeller = daisee.connect(seller);
  const asBuyer = daisee.connect(buyer);
  const asBridge = daisee.connect(bridge);
  assert.equal(await daisee.owner(), await addr(owner));
  const rate = await daisee.rate();
  assert.equal(rate, 15_000_000_000_000n);
  assert.equal(await daisee.getRate(), rate);
  assert.equal(await daisee.DEFAULT_RATE(), rate);

  // A live subscription over WebSocket sees the Reading event.
  const wsDaisee = new ethers.Contract(address, artifact.abi, ws);
  const seen = new Promise((resolve) => wsDaisee.once('Reading', (meter, end, p, c) => resolve({ meter, end, p, c })));

  // Meter calls, with gas estimates and receipts: a reading for the last interval over on chain.
  const head = await http.getBlock('latest');
  const end = head.timestamp - (head.timestamp % 900);
  const est = await asSeller.reportReading.estimateGas(end, 1000, 100);
  assert.ok(est > 21000n && est < 300000n, `estimate ${est}`);
  let receipt = await (await asSeller.reportReading(end, 1000, 100)).wait();
  assert.equal(receipt.status, 1);
  const live = await seen;
  assert.equal(live.meter, await addr(seller));
  assert.equal(live.end, BigInt(end));
  await (await asBridge.setProduction(500)).wait();
  await (await asBridge.consumeEnergy(100)).wait();
  assert.equal(await daisee.energyBalanceOf(await addr(seller)), 900n);
  assert.equal(await asSeller.getEnergyBalance(), 900n);
  assert.equal(await asSeller.getEnergyConsumption(), 100n);
  assert.equal(await asBridge.getEnergyBalance(), 400n);
  assert.equal(await daisee.productionOf(await addr(seller)), 1000n);
  assert.equal(await daisee.consumptionOf(await addr(bridge)), 100n);
  assert.equal(await daisee.lastIntervalOf(await addr(seller)), BigInt(end));
  // The other interface is refused to a meter that chose one, with its custom error.
  try {
    await asSeller.setProduction.staticCall(1);
    assert.fail('a reading meter must not use the 2016 calls');
  } catch (e) {
    assert.equal(e.revert?.name, 'WrongInterface', JSON.stringify(e.revert));
  }
  assert.equal(await daisee.isMeter(await addr(seller)), true);

  // Events through getLogs.
  const prods = await daisee.queryFilter(daisee.filters.Prod(), 0, 'latest');
  assert.equal(prods.length, 1);
  assert.equal(prods[0].args.energy, 500n);
  const readings = await daisee.queryFilter(daisee.filters.Reading(await addr(seller)));
  assert.equal(readings.length, 1);

  // A revert decoded as its custom error: the buyer is not a meter.
  try {
    await asBuyer.setProduction.staticCall(1);
    assert.fail('setProduction by a non-meter must revert');
  } catch (e) {
    assert.equal(e.code, 'CALL_EXCEPTION');
    assert.equal(e.revert?.name, 'NotMeter', JSON.stringify(e.revert));
    assert.equal(e.revert.args[0], await addr(buyer));
  }
  try {
    await asBuyer.buyEnergy.estimateGas(await addr(seller), 100, { value: 1 });
    assert.fail('underpaying must revert');
  } catch (e) {
    // estimateGas errors carry the revert data; the contract's interface names the error.
    const parsed = daisee.interface.parseError(e.data);
    assert.equal(parsed?.name, 'InsufficientPayment', `${e.shortMessage} ${e.data}`);
    assert.equal(parsed.args.required, 100n * 15_000_000_000_000n);
  }

  // Buying pays the seller exactly energy * rate and refunds the excess.
  const sellerBefore = await http.getBalance(await addr(seller));
  const price = 300n * rate;
  receipt = await (await asBuyer.buyEnergy(await addr(seller), 300, { value: price + 12345n })).wait();
  const buy = receipt.logs.map((l) => daisee.interface.parseLog(l)).find((l) => l?.name === 'Buy');
  assert.equal(buy.args.energy, 300n);
  assert.equal((await http.getBalance(await addr(seller))) - sellerBefore, price);
  assert.equal(await asBuyer.getEnergyBalance(), 300n);
  assert.equal(await http.getBalance(address), 0n);

  // Administration, with events.
  await (await asOwner.addMeter(await addr(buyer))).wait();
  assert.deepEqual([...(await daisee.getMeters())], [await addr(seller), await addr(bridge), await addr(buyer)]);
  await (await asOwner.removeMeter(await addr(buyer))).wait();
  await (await asOwner.setRate(rate * 2n)).wait();
  assert.equal(await daisee.rate(), rate * 2n);
  // Ownership moves in two steps: offered, then accepted.
  await (await asOwner.transferOwnership(await addr(seller))).wait();
  assert.equal(await daisee.owner(), await addr(owner));
  assert.equal(await daisee.pendingOwner(), await addr(seller));
  await (await asSeller.acceptOwnership()).wait();
  assert.equal(await daisee.owner(), await addr(seller));
  assert.equal(await daisee.deficitOf(await addr(seller)), 0n);
  assert.equal(await daisee.netBalanceOf(await addr(seller)), 600n);

  // Fees and blocks look like any node's.
  const fees = await http.getFeeData();
  assert.ok(fees.maxFeePerGas > 0n && fees.maxPriorityFeePerGas > 0n);
  const block = await http.getBlock('latest', true);
  assert.ok(block.number > 5);
  await ws.destroy();
  console.log(`ethers ${ethers.version}: all checks passed against ${endpoint}`);
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});
