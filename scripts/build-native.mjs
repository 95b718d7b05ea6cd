#!/usr/bin/env node
// Builds pul's optional native kernels (native/, a C addon) with node-gyp. Runs at `npm install`/`npm ci`
// and as `npm run build:native`. A machine without a C compiler or Node headers simply does without:
// pul then uses its WebAssembly kernels. This script never fails the install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
if (process.env.PUL_NATIVE === '0') {
  console.log('pul: PUL_NATIVE=0, not building the native kernels');
  process.exit(0);
}

// npm ships node-gyp; prefer that copy (no download), else one on PATH.
const candidates = [];
if (process.env.npm_execpath) candidates.push(path.resolve(path.dirname(process.env.npm_execpath), '../node_modules/node-gyp/bin/node-gyp.js'));
candidates.push(path.resolve(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'));
const gyp = candidates.find((p) => existsSync(p));
const command = gyp ? [process.execPath, [gyp]] : ['node-gyp', []];
const args = [...command[1], 'rebuild', '--directory', path.join(root, 'native')];
// Headers installed with Node (Debian's nodejs puts them in /usr/include/node) avoid a download.
if (!process.env.npm_config_nodedir && existsSync('/usr/include/node/node_api.h')) args.push('--nodedir=/usr');

const result = spawnSync(command[0], args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (result.status === 0) {
  console.log('pul: native kernels built (native/build/Release/pul_native.node)');
} else {
  const why = (result.error?.message ?? result.stderr ?? '').split('\n').filter((l) => /error|not found|ERR/i.test(l)).slice(0, 3).join('; ');
  console.log(`pul: native kernels not built (${why || `node-gyp exited ${result.status}`}); pul will use its WebAssembly kernels`);
}
