// Benchmark of aws-jwt-verify (AWS's own verifier for Node.js) on the
// token of the Go benchmarks (testdata/, written by cmd/mkfixture).
//
//   node node/bench.mjs [testdata-dir] [seconds-per-round] [rounds]
//
// aws-jwt-verify is loaded from $AWS_JWT_VERIFY_DIR (a directory holding
// node_modules/aws-jwt-verify), else ~/.cache/cognitoguard/aws-jwt-verify;
// run.sh installs the pinned version there. The JWKS is handed over with
// cacheJwks, so nothing is fetched. Prints one JSON object.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";

const dir = resolve(process.argv[2] ?? "testdata");
const seconds = Number(process.argv[3] ?? 1);
const rounds = Number(process.argv[4] ?? 6);

const libDir = process.env.AWS_JWT_VERIFY_DIR || join(homedir(), ".cache", "cognitoguard", "aws-jwt-verify");
const require = createRequire(join(libDir, "package.json"));
const { CognitoJwtVerifier } = require("aws-jwt-verify");
const version = JSON.parse(readFileSync(join(libDir, "node_modules", "aws-jwt-verify", "package.json"), "utf8")).version;

const meta = JSON.parse(readFileSync(join(dir, "fixture.json"), "utf8"));
const token = readFileSync(join(dir, "token.jwt"), "utf8").trim();
const jwks = JSON.parse(readFileSync(join(dir, "jwks.json"), "utf8"));

const verifier = CognitoJwtVerifier.create({
  userPoolId: meta.userPoolId,
  tokenUse: "access",
  clientId: meta.clientId,
});
verifier.cacheJwks(jwks);

// It must really verify: the token passes, a flipped signature bit fails.
const payload = verifier.verifySync(token);
if (payload.iss !== meta.issuer || payload.client_id !== meta.clientId) {
  throw new Error("unexpected payload " + JSON.stringify(payload));
}
const dot = token.lastIndexOf(".");
const sig = Buffer.from(token.slice(dot + 1), "base64url");
sig[sig.length >> 1] ^= 1;
let rejected = false;
try {
  verifier.verifySync(token.slice(0, dot + 1) + sig.toString("base64url"));
} catch {
  rejected = true;
}
if (!rejected) throw new Error("a tampered token verified");

function round(ms) {
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 100; i++) verifier.verifySync(token);
    n += 100;
    now = performance.now();
  }
  return ((now - start) * 1000) / n; // µs per verification
}

round(Math.min(1000, seconds * 1000)); // warm-up: JIT, key import
const us = [];
for (let i = 0; i < rounds; i++) us.push(round(seconds * 1000));
const sorted = [...us].sort((a, b) => a - b);
const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
console.log(JSON.stringify({
  library: "aws-jwt-verify",
  version,
  node: process.version,
  call: "CognitoJwtVerifier.verifySync (JWKS from cacheJwks)",
  tokenBytes: token.length,
  rounds: us.map((x) => Number(x.toFixed(2))),
  medianMicros: Number(median.toFixed(2)),
  opsPerSec: Math.round(1e6 / median),
}));
