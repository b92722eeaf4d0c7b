// Pieces shared by the loopback test-peer scripts (dpt_network.mjs, rlpx_network.mjs).
import { keccak256 } from 'ethereum-cryptography/keccak.js'
import secp256k1 from 'secp256k1'

export const utf8 = (s) => new TextEncoder().encode(s)
export const hex = (b) => Buffer.from(b).toString('hex')

// A script's fatal usage error: one line on stderr, exit code 2.
export function failer(script) {
  return (msg) => {
    process.stderr.write(`${script}: ${msg}\n`)
    process.exit(2)
  }
}

function ipToInt(ip, fail) {
  const p = ip.split('.').map(Number)
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) fail(`bad IPv4 address ${ip}`)
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0
}
const intToIp = (n) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')

// base, base+1, ... inside 127/8, skipping x.y.z.0 and x.y.z.255 (read as network/broadcast by some parsers).
// Refuses anything that would leave loopback.
export function addresses(base, count, fail) {
  const out = []
  for (let n = ipToInt(base, fail); out.length < count; n++) {
    const last = n & 255
    if (last === 0 || last === 255) continue
    if (n >>> 24 !== 127) fail(`addresses leave 127.0.0.0/8 after ${out.length} nodes (base ${base})`)
    out.push(intToIp(n))
  }
  return out
}

// Deterministic keys: keccak256("<prefix>/<seed>/<i>[/<retry>]"); the Python tests derive the same ones.
export function privateKey(prefix, seed, i) {
  for (let retry = 0; ; retry++) {
    const key = keccak256(utf8(`${prefix}/${seed}/${i}${retry ? `/${retry}` : ''}`))
    if (secp256k1.privateKeyVerify(key)) return key
  }
}

// Native crypto in the shape devp2p 10.x calls it through Common({customCrypto}); the pure-JS default saturates a
// core. devp2p passes `false` (uncompressed) as 4th argument of ecdsaRecover; the native default is compressed.
export const customCrypto = {
  ecsign(msgHash, privKey) {
    const { signature, recid } = secp256k1.ecdsaSign(msgHash, privKey)
    return {
      r: BigInt(`0x${hex(signature.subarray(0, 32))}`),
      s: BigInt(`0x${hex(signature.subarray(32, 64))}`),
      recovery: recid,
    }
  },
  ecdsaRecover: (sig, recId, hash, compressed = false) => secp256k1.ecdsaRecover(sig, recId, hash, compressed),
}

// Peers meet the same error again and again (a crawler's ENRREQUEST, a dialer closing early): count errors by
// kind, log the first few of each (all of them when verbose).
export function errorLog(script) {
  const counts = new Map()
  const log = { verbose: false, counts }
  log.error = (node, err) => {
    const kind = String(err?.message ?? err).replace(/[0-9a-f]{16,}|\d+\.\d+\.\d+\.\d+(:\d+)?/g, '…').slice(0, 80)
    const seen = (counts.get(kind) ?? 0) + 1
    counts.set(kind, seen)
    if (log.verbose || seen <= 3) process.stderr.write(`${script}: node ${node}: ${err?.message ?? err}\n`)
  }
  return log
}

// A small seeded PRNG (mulberry32): the same seed gives the same network, run after run.
export function mulberry32(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// Node i knows its ring successor first (so it survives any bucket overflow and the graph stays connected),
// then up to k distinct random others drawn with rand().
export function ringGraph(n, k, rand) {
  const edges = []
  for (let i = 0; i < n; i++) {
    const chosen = [(i + 1) % n]
    const seen = new Set([i, (i + 1) % n])
    const want = Math.min(k, n - 2)
    while (chosen.length < want + 1) {
      const j = Math.floor(rand() * n)
      if (!seen.has(j)) {
        seen.add(j)
        chosen.push(j)
      }
    }
    edges.push(chosen)
  }
  return edges
}
