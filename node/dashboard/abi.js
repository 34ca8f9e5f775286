// The little of the Ethereum ABI the dashboard needs: calls to the Daisee contract, its events
// and its errors. Selectors and topics are written out here (no keccak in the page); a Rust
// unit test checks every one against the contract's bindings, so they cannot drift.

export const DAISEE = '0xda15ee0000000000000000000000000000000001';

export const SELECTORS = {
  getMeters: '0x388e407e',
  getRate: '0x679aefce',
  productionOf: '0xf99ca1ee',
  consumptionOf: '0x8557b84a',
  netBalanceOf: '0x0b986a50',
  lastIntervalOf: '0x2a868869',
  escrowOf: '0xe038c3da',
  buyEnergy: '0x36fd7e1b',
};

export const TOPICS = {
  Reading: '0xa54edbdcb74e659818b3ccaedaa8a8bb6f643bb70ad347d918c09dc2d7e67f4e',
  Buy: '0xd0c183be209f70036b50de16805d88249019e1288d7b77ef877710999c0d08e6',
  RateChanged: '0x4ac9052a820bf4f8c02d7588587cae835573b5b99ea7ad4ca002f17f319f7186',
  Matched: '0x9cfef77f27199e91ebf3b16177c8d4e006f6fb373a449bc115a5df3fd7202fe1',
  MeterAdded: '0x1c179444b20baa68a0810d64f7cb0d45758ba25acbd30f12dcdbedf6799f0baf',
  MeterRemoved: '0x2718f71c8c668ecab17c4a97593a8f19f978e070877cc2331519841482da60c0',
};

export const ERRORS = {
  InsufficientEnergy: '0x53018571',
  InsufficientPayment: '0xb99e2ab7',
  NotMeter: '0x21a15d0f',
  ZeroEnergy: '0x3ce695a0',
  PaymentFailed: '0xa09e6165',
};

const word = (hex) => hex.replace(/^0x/, '').padStart(64, '0');

/** ABI-encodes one static argument: an address (0x + 40 hex) or an unsigned integer (BigInt). */
function encodeArg(arg) {
  if (typeof arg === 'string') {
    if (!/^0x[0-9a-fA-F]{40}$/.test(arg)) throw new Error(`not an address: ${arg}`);
    return word(arg.toLowerCase());
  }
  const value = BigInt(arg);
  if (value < 0n || value >= 1n << 256n) throw new Error(`out of range: ${arg}`);
  return value.toString(16).padStart(64, '0');
}

/** Calldata for `name(args…)`. */
export function encodeCall(name, ...args) {
  const selector = SELECTORS[name];
  if (!selector) throw new Error(`unknown function ${name}`);
  return selector + args.map(encodeArg).join('');
}

/** The 32-byte words of hex data. */
export function words(hex) {
  const body = (hex || '0x').replace(/^0x/, '');
  const out = [];
  for (let i = 0; i + 64 <= body.length; i += 64) out.push(body.slice(i, i + 64));
  return out;
}

export const toUint = (w) => BigInt('0x' + (w || '0'));
export const toInt = (w) => {
  const v = toUint(w);
  return v >= 1n << 255n ? v - (1n << 256n) : v;
};
export const toAddress = (w) => '0x' + w.slice(24);

/** Decodes a returned `address[]`. */
export function decodeAddresses(hex) {
  const ws = words(hex);
  const offset = Number(toUint(ws[0])) / 32;
  const length = Number(toUint(ws[offset]));
  return ws.slice(offset + 1, offset + 1 + length).map(toAddress);
}

/** A `Reading(address indexed meter, uint64 intervalEnd, uint256 producedWh, uint256 consumedWh)` log. */
export function decodeReading(log) {
  const [intervalEnd, produced, consumed] = words(log.data).map(toUint);
  return {
    meter: toAddress(log.topics[1].slice(2)),
    intervalEnd: Number(intervalEnd),
    produced,
    consumed,
    block: Number(log.blockNumber),
    index: Number(log.logIndex),
  };
}

/** A `Buy(address buyer, address seller, uint256 energy)` log (2016 signature, nothing indexed). */
export function decodeBuy(log) {
  const [buyer, seller, energy] = words(log.data);
  return {
    buyer: toAddress(buyer),
    seller: toAddress(seller),
    energy: toUint(energy),
    block: Number(log.blockNumber),
    index: Number(log.logIndex),
    tx: log.transactionHash,
  };
}

/**
 * A `Matched(uint64 indexed intervalEnd, address indexed seller, address indexed buyer,
 * uint256 energyWh, uint256 paid)` log: a trade made by the automatic settlement, with its price.
 */
export function decodeMatched(log) {
  const [energy, paid] = words(log.data).map(toUint);
  return {
    buyer: toAddress(log.topics[3].slice(2)),
    seller: toAddress(log.topics[2].slice(2)),
    energy,
    paid,
    intervalEnd: Number(toUint(log.topics[1].slice(2))),
    block: Number(log.blockNumber),
    index: Number(log.logIndex),
    tx: log.transactionHash,
  };
}

/** A `RateChanged(uint256 previousRate, uint256 newRate)` log. */
export function decodeRateChanged(log) {
  const [previous, next] = words(log.data).map(toUint);
  return { previous, next, block: Number(log.blockNumber), index: Number(log.logIndex) };
}

/** The contract error in revert data, as `{ name, args }` (args as words), or null. */
export function decodeError(data) {
  if (typeof data !== 'string' || data.length < 10) return null;
  const selector = data.slice(0, 10).toLowerCase();
  const name = Object.keys(ERRORS).find((k) => ERRORS[k] === selector);
  return name ? { name, args: words('0x' + data.slice(10)) } : null;
}
