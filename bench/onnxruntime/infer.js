#!/usr/bin/env node
// Inference time of an ONNX model in ONNX Runtime (npm's onnxruntime-node,
// whose CPU library ships in the package): the ONNX Runtime side of
// bench/infer.sh. See bench/README.md.
//
//   node infer.js MODEL.onnx --threads T [--runs 20] [--warmup 3]
//
// The session runs with all graph optimisations (batch norm folded into the
// convs, conv + relu fused), T intra-op threads and sequential execution
// (the default CPU setup). The last line is `inference: median X ms, best Y
// ms, Z images/s (threads T, batch B)`, as bench/pytorch/infer.py prints it.
'use strict';

const os = require('os');
const path = require('path');

function usage(message) {
  if (message) console.error(`infer.js: ${message}`);
  console.error('usage: node infer.js MODEL.onnx --threads T [--runs 20] [--warmup 3]');
  process.exit(2);
}

function parse(argv) {
  const options = {threads: 1, runs: 20, warmup: 3, model: null};
  for (let i = 0; i < argv.length; ++i) {
    const arg = argv[i];
    if (arg === '--threads' || arg === '--runs' || arg === '--warmup') {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < (arg === '--warmup' ? 0 : 1))
        usage(`${arg} needs a ${arg === '--warmup' ? 'non-negative' : 'positive'} integer`);
      options[arg.slice(2)] = value;
    } else if (arg.startsWith('-')) {
      usage(`unknown option '${arg}'`);
    } else if (options.model === null) {
      options.model = arg;
    } else {
      usage(`a second model '${arg}'`);
    }
  }
  if (options.model === null) usage('no model given');
  return options;
}

// Where scripts/setup-onnxruntime.sh installs the package (the ONNX round-trip
// test uses the same copy), unless RESNETC_ONNXRUNTIME_NODE names another.
function ortDirectory() {
  return process.env.RESNETC_ONNXRUNTIME_NODE ||
         path.join(os.homedir(), '.cache', 'resnetc', 'onnxruntime', 'node_modules',
                   'onnxruntime-node');
}

function loadOrt() {
  try {
    return require(ortDirectory());
  } catch (e) {
    if (e.code !== 'MODULE_NOT_FOUND') throw e;
  }
  console.error(`infer.js: onnxruntime-node is not in ${ortDirectory()} ` +
                '(run scripts/setup-onnxruntime.sh)');
  process.exit(1);
}

async function main() {
  const o = parse(process.argv.slice(2));
  const ort = loadOrt();
  const session = await ort.InferenceSession.create(o.model, {
    intraOpNumThreads: o.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const name = session.inputNames[0];
  const meta = session.inputMetadata ? session.inputMetadata[0] : null;
  const dims = meta && meta.shape ? meta.shape : null;
  if (!dims || dims.some((d) => typeof d !== 'number'))
    throw new Error(`${o.model}: the input's shape is not fixed`);
  const values = new Float32Array(dims.reduce((a, b) => a * b, 1));
  let seed = 1;
  for (let i = 0; i < values.length; ++i) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    values[i] = seed / 4294967296 - 0.5;
  }
  const feeds = {[name]: new ort.Tensor('float32', values, dims)};
  const version = require(path.join(ortDirectory(), 'package.json')).version;
  console.log(`${path.basename(o.model)}, onnxruntime-node ${version}: ` +
              `input ${dims.join('x')}, ${o.threads} threads; ${o.warmup} warm-up and ${o.runs} timed runs`);
  const times = [];
  let last;
  for (let i = 0; i < o.warmup + o.runs; ++i) {
    const start = process.hrtime.bigint();
    last = await session.run(feeds);
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    if (i >= o.warmup) {
      times.push(elapsed);
      console.log(`run ${i - o.warmup + 1}: ${elapsed.toFixed(2)} ms`);
    }
  }
  const out = last[session.outputNames[0]].data;
  for (const v of out)
    if (!Number.isFinite(v)) throw new Error('an output is not finite');
  times.sort((a, b) => a - b);
  const n = times.length;
  const median = n % 2 ? times[(n - 1) / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
  console.log(`inference: median ${median.toFixed(2)} ms, best ${times[0].toFixed(2)} ms, ` +
              `${(dims[0] * 1000 / median).toFixed(1)} images/s (threads ${o.threads}, batch ${dims[0]})`);
  console.log(`peak memory ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);
}

main().catch((e) => {
  console.error(`infer.js: ${e.message}`);
  process.exit(1);
});
