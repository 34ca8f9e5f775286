// Compiles the Daisee contracts with the pinned solc from package.json and writes one artifact per
// contract to out/<Name>.json. With --check, compiles in memory and fails if out/ differs, so the
// committed artifacts (which the Rust build reads) always match the sources.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const ROOT = __dirname;
const OUT = path.join(ROOT, 'out');
const SOURCES = ['src/Daisee.sol', 'src/Market.sol', 'test/ReentrantSeller.sol'];
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'prague',
  metadata: { bytecodeHash: 'none' },
  outputSelection: {
    '*': {
      '*': [
        'abi',
        'evm.bytecode.object',
        'evm.deployedBytecode.object',
        'evm.methodIdentifiers',
        'storageLayout',
      ],
    },
  },
};

function compile() {
  const sources = {};
  for (const s of SOURCES) sources[s] = { content: fs.readFileSync(path.join(ROOT, s), 'utf8') };
  const input = { language: 'Solidity', sources, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (output.errors || []).filter((e) => e.severity === 'error');
  for (const e of output.errors || []) process.stderr.write(e.formattedMessage + '\n');
  if (errors.length) throw new Error(`solc reported ${errors.length} error(s)`);

  const artifacts = {};
  for (const source of SOURCES) {
    for (const [name, c] of Object.entries(output.contracts[source])) {
      if (c.evm.bytecode.object === '') continue; // interfaces
      const artifact = {
        contractName: name,
        sourceName: source,
        compiler: { version: solc.version(), settings: { ...SETTINGS, outputSelection: undefined } },
        abi: c.abi,
        bytecode: '0x' + c.evm.bytecode.object,
        deployedBytecode: '0x' + c.evm.deployedBytecode.object,
        methodIdentifiers: c.evm.methodIdentifiers,
        storageLayout: c.storageLayout,
      };
      artifacts[`${name}.json`] = JSON.stringify(artifact, null, 2) + '\n';
    }
  }
  return artifacts;
}

function main() {
  const check = process.argv.includes('--check');
  const artifacts = compile();
  if (!check) {
    fs.mkdirSync(OUT, { recursive: true });
    for (const [file, text] of Object.entries(artifacts)) fs.writeFileSync(path.join(OUT, file), text);
    console.log(`wrote ${Object.keys(artifacts).join(', ')} with solc ${solc.version()}`);
    return;
  }
  const stale = [];
  for (const [file, text] of Object.entries(artifacts)) {
    const p = path.join(OUT, file);
    if (!fs.existsSync(p) || fs.readFileSync(p, 'utf8') !== text) stale.push(file);
  }
  const extra = fs.readdirSync(OUT).filter((f) => f.endsWith('.json') && !(f in artifacts));
  if (stale.length || extra.length) {
    console.error(`evm-contracts/out is stale: differs: [${stale}] unexpected: [${extra}]`);
    console.error('run `npm --prefix evm-contracts run build` and commit evm-contracts/out');
    process.exit(1);
  }
  console.log(`evm-contracts/out matches the sources (solc ${solc.version()})`);
}

main();
