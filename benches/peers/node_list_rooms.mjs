#!/usr/bin/env node
// ListRooms throughput of the official Node server SDK (`livekit-server-sdk`), for
// benches/throughput.rs.
//
// Usage: node node_list_rooms.mjs URL API_KEY API_SECRET CONCURRENCY SECONDS [WARMUP_SECONDS]
//
// One `RoomServiceClient` and CONCURRENCY loops under `Promise.all`, each awaiting
// `listRooms()`. After WARMUP_SECONDS (default 1) it counts the calls that complete during SECONDS
// and prints one JSON line: {"calls": N, "seconds": S, "errors": E, "p50_ms": M}. A failed call
// counts as an error and ends its loop; the bench refuses a cell with errors.
//
// The SDK comes from the pinned install of the conformance checks (tests/conformance/node,
// `npm ci` there); LIVEKIT_SDK_NODE_DIR points elsewhere. Resolved from that folder because this
// script lives outside it and ESM imports ignore NODE_PATH.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

// The SDK's own request timeout is 10 s; loops still running past this are a failure, not a hang.
const STOP_GRACE_MS = 15_000;

const here = dirname(fileURLToPath(import.meta.url));
const sdkDir = process.env.LIVEKIT_SDK_NODE_DIR || join(here, '..', '..', 'tests', 'conformance', 'node');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const args = process.argv.slice(2);
  if (args.length < 5 || args.length > 6) {
    console.error('usage: node_list_rooms.mjs URL API_KEY API_SECRET CONCURRENCY SECONDS [WARMUP_SECONDS]');
    return 2;
  }
  const [url, key, secret] = args;
  const concurrency = Number.parseInt(args[3], 10);
  const seconds = Number.parseFloat(args[4]);
  const warmup = args.length === 6 ? Number.parseFloat(args[5]) : 1;

  const sdkEntry = createRequire(join(sdkDir, 'package.json')).resolve('livekit-server-sdk');
  const { RoomServiceClient } = await import(pathToFileURL(sdkEntry).href);
  const svc = new RoomServiceClient(url, key, secret);

  let stop = false;
  let open = false;
  let errors = 0;
  const latencies = [];
  const loop = async () => {
    while (!stop) {
      const started = performance.now();
      try {
        await svc.listRooms();
      } catch {
        errors += 1;
        return;
      }
      if (open) latencies.push(performance.now() - started);
    }
  };

  const loops = Promise.all(Array.from({ length: concurrency }, loop));
  await sleep(warmup * 1000);
  open = true;
  const begun = performance.now();
  await sleep(seconds * 1000);
  open = false;
  const calls = latencies.length;
  const elapsed = (performance.now() - begun) / 1000;
  stop = true;
  let timer;
  const grace = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('loops did not stop')), STOP_GRACE_MS);
  });
  await Promise.race([loops, grace]);
  clearTimeout(timer);

  const sorted = latencies.slice(0, calls).sort((a, b) => a - b);
  const p50 = calls ? sorted[Math.floor((calls - 1) / 2)] : null;
  console.log(JSON.stringify({ calls, seconds: elapsed, errors, p50_ms: p50 }));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
