// A static discv5 test network of N @chainsafe/discv5 nodes in one Node process, on loopback only.
//
//   node discv5_network.mjs --nodes N [--seed S] [--base 127.52.0.1] [--k 16] [--udp-port 22000]
//                           [--eth2 HEX16] [--other-eth2 HEX16] [--other-every M] [--ignore-stdin] [--verbose]
//
// Prints ONE JSON line on stdout once every node listens ({"ready": true, "nodes": [...]}), then runs until stdin
// closes (unless --ignore-stdin) or SIGTERM/SIGINT. Diagnostics go to stderr only.
//
// Why it looks like this:
// - Each node has its own loopback address (Linux routes all of 127/8 to lo) and its own UDP port.
// - Routing tables are filled with addEnr before start() over a known graph (ring successor + k random others), so
//   the graph is connected by construction and no PING/FINDNODE runs at start-up. A table entry whose bucket is
//   already full is refused (a "disconnected" entry never displaces another), and the printed `table` is read back
//   from the k-buckets, so it is the ground truth a crawler can reach.
// - No background traffic: no lookups are started, the connected-peer ping interval is an hour and ENR
//   auto-update (address votes) is off, so records never change while a test runs.
// - Every record carries an `eth2` entry (SSZ ENRForkID, 16 bytes given in hex): --eth2 for most nodes,
//   --other-eth2 for every M-th node (i % M == M - 1), so crawl tests can check network verdicts.
// - Signing, verification and ECDH use the native `secp256k1` addon (setDiscv5Crypto for the wire protocol,
//   setV4Crypto for records); the pure-JS defaults cost about a millisecond per operation and saturate a core.
import { SignableENR } from '@chainsafe/enr'
import { Discv5 } from '@chainsafe/discv5'
import { multiaddr } from '@multiformats/multiaddr'
import { addresses, errorLog, failer, hex, mulberry32, privateKey, ringGraph } from './common.mjs'
import { installNativeCrypto } from './discv5_common.mjs'

const USAGE =
  'usage: node discv5_network.mjs --nodes N [--seed S] [--base 127.52.0.1] [--k 16] [--udp-port 22000] ' +
  '[--eth2 HEX16] [--other-eth2 HEX16] [--other-every M] [--ignore-stdin] [--verbose]'

// Mainnet after its second blob-parameter-only fork (digest 0x8c9f62fe, no next fork) and a digest no network uses;
// the Python harness passes values computed from monitor.discovery.forkdigest instead.
const DEFAULT_ETH2 = '8c9f62fe06000000ffffffffffffffff'
const DEFAULT_OTHER_ETH2 = '00000000' + '00000000' + 'ffffffffffffffff'

const fail = failer('discv5_network')

function parseArgs(argv) {
  const opts = {
    nodes: 0, seed: 1, base: '127.52.0.1', k: 16, udpPort: 22000,
    eth2: DEFAULT_ETH2, otherEth2: DEFAULT_OTHER_ETH2, otherEvery: 10,
  }
  const flags = { '--ignore-stdin': 'ignoreStdin', '--verbose': 'verbose' }
  const valued = {
    '--nodes': 'nodes', '--seed': 'seed', '--base': 'base', '--k': 'k', '--udp-port': 'udpPort',
    '--eth2': 'eth2', '--other-eth2': 'otherEth2', '--other-every': 'otherEvery',
  }
  const texts = new Set(['base', 'eth2', 'otherEth2'])
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a in flags) opts[flags[a]] = true
    else if (a in valued && i + 1 < argv.length) {
      const v = argv[++i]
      opts[valued[a]] = texts.has(valued[a]) ? v : Number(v)
    } else fail(`unknown or incomplete argument ${a}\n${USAGE}`)
  }
  for (const key of ['nodes', 'seed', 'k', 'udpPort', 'otherEvery']) {
    if (!Number.isInteger(opts[key]) || opts[key] < 0) fail(`--${key} must be a non-negative integer\n${USAGE}`)
  }
  for (const key of ['eth2', 'otherEth2']) {
    if (!/^[0-9a-f]{32}$/.test(opts[key])) fail(`--${key} must be 16 bytes of lowercase hex\n${USAGE}`)
  }
  if (opts.nodes < 2) fail(`--nodes must be at least 2\n${USAGE}`)
  if (opts.udpPort + opts.nodes > 65536) fail('port range exceeds 65535')
  return opts
}

const bytes = (hexText) => Uint8Array.from(Buffer.from(hexText, 'hex'))

// SSZ Bitvector[64] with SUBNETS_PER_NODE (2) bits set, as a node subscribed to two attestation subnets shows.
function attnets(rand) {
  const out = new Uint8Array(8)
  const subnets = new Set()
  while (subnets.size < 2) subnets.add(Math.floor(rand() * 64))
  for (const s of subnets) out[s >> 3] |= 1 << (s & 7)
  return { out, subnets: [...subnets].sort((a, b) => a - b) }
}

const errors = errorLog('discv5_network')

function makeNode(opts, ip, i, rand) {
  const key = privateKey('discv5-network', opts.seed, i)
  const udp = opts.udpPort + i
  const mainnet = opts.otherEvery === 0 || i % opts.otherEvery !== opts.otherEvery - 1
  const eth2 = mainnet ? opts.eth2 : opts.otherEth2
  const nets = attnets(rand)
  const enr = SignableENR.createV4(key)
  enr.ip = ip
  enr.udp = udp
  enr.set('eth2', bytes(eth2))
  enr.set('attnets', nets.out)
  const discv5 = Discv5.create({
    enr,
    privateKey: { type: 'secp256k1', raw: key },
    bindAddrs: { ip4: multiaddr(`/ip4/${ip}/udp/${udp}`) },
    config: { enrUpdate: false, pingInterval: 3_600_000 },
  })
  return { ip, udp, eth2, mainnet, attnets: nets.subnets, enr, discv5 }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  errors.verbose = Boolean(opts.verbose)
  const t0 = performance.now()
  installNativeCrypto()
  const rand = mulberry32(opts.seed * 0x9e3779b1 + 7)
  const ips = addresses(opts.base, opts.nodes, fail)
  const nodes = ips.map((ip, i) => makeNode(opts, ip, i, rand))

  // Fill tables before start(): no eviction handler is attached yet, and a full bucket refuses a disconnected entry.
  const texts = nodes.map((node) => node.enr.toENR())
  const edges = ringGraph(opts.nodes, opts.k, rand)
  let dropped = 0
  nodes.forEach((node, i) => {
    for (const j of edges[i]) node.discv5.addEnr(texts[j])
    dropped += edges[i].length - node.discv5.kadValues().length
  })
  if (dropped) process.stderr.write(`discv5_network: ${dropped} table entries refused by full buckets\n`)

  await Promise.all(nodes.map((node) => node.discv5.start())).catch((err) => fail(`start failed: ${err.message}`))

  const out = nodes.map((node) => ({
    id: node.enr.nodeId,
    pubkey: hex(node.enr.publicKey),
    ip: node.ip,
    udp: node.udp,
    enr: node.enr.encodeTxt(),
    eth2: node.eth2,
    mainnet: node.mainnet,
    attnets: node.attnets,
    table: node.discv5.kadValues().map((e) => e.nodeId),
  }))
  process.stdout.write(`${JSON.stringify({ ready: true, nodes: out })}\n`)
  const ms = Math.round(performance.now() - t0)
  process.stderr.write(`discv5_network: ${opts.nodes} nodes ready in ${ms} ms\n`)

  for (const [i, node] of nodes.entries()) {
    node.discv5.on('error', (err) => errors.error(i, err))
  }
  let stopping = false
  const stop = (why) => {
    if (stopping) return
    stopping = true
    const summary = [...errors.counts].map(([kind, n]) => `${n}x ${kind}`).join('; ')
    process.stderr.write(`discv5_network: stopping (${why})${summary ? `; errors: ${summary}` : ''}\n`)
    // Sockets and session timers would keep the loop alive for seconds: stop what stops quickly, then exit.
    Promise.allSettled(nodes.map((node) => node.discv5.stop())).finally(() => process.exit(0))
    setTimeout(() => process.exit(0), 1000).unref()
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  if (!opts.ignoreStdin) {
    process.stdin.on('end', () => stop('stdin closed'))
    process.stdin.on('close', () => stop('stdin closed'))
    process.stdin.resume() // drain whatever is written; only EOF matters
  }
}

main().catch((err) => fail(err?.stack ?? String(err)))
