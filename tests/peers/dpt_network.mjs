// A static discv4 test network of N @ethereumjs/devp2p DPT nodes in one Node process, on loopback only.
//
//   node dpt_network.mjs --nodes N [--seed S] [--base 127.2.0.1] [--k 16] [--udp-port 30303] [--tcp-port 20303]
//                        [--no-ping-back] [--ignore-stdin] [--verbose]
//
// Prints ONE JSON line on stdout once every node listens ({"ready": true, "nodes": [...]}), then runs until stdin
// closes (unless --ignore-stdin) or SIGTERM/SIGINT. Diagnostics go to stderr only.
//
// Why it looks like this:
// - Each node gets its own loopback address (Linux routes all of 127/8 to lo) and its own UDP and TCP port numbers:
//   DPT keys peers by id and by "address:tcpPort", and distinct ports make enode/discport handling visible.
// - Tables are filled straight into the k-bucket over a known graph (ring successor + k random others): no PING
//   round trips at start-up, and the graph is connected by construction.
// - No background traffic: the refresh timer is cleared and DNS discovery is off. With ping-back on (default), a
//   node that is PINGed by an unknown peer pings the PING's `from` endpoint back and adds it to its table on PONG,
//   as a live DPT does (that is what `shouldFindNeighbours` gates in devp2p 10.x); --no-ping-back keeps it silent.
// - Signing/recovery use the native `secp256k1` addon through Common({customCrypto}); the pure-JS default costs
//   about a millisecond per packet and saturates a core under a crawl.
import { Common, Mainnet } from '@ethereumjs/common'
import { DPT } from '@ethereumjs/devp2p'
import { keccak256 } from 'ethereum-cryptography/keccak.js'
import secp256k1 from 'secp256k1'
import { addresses, customCrypto, errorLog, failer, hex, mulberry32, privateKey, ringGraph, utf8 } from './common.mjs'

const USAGE =
  'usage: node dpt_network.mjs --nodes N [--seed S] [--base 127.2.0.1] [--k 16] [--udp-port 30303] ' +
  '[--tcp-port 20303] [--no-ping-back] [--ignore-stdin] [--verbose]'

function parseArgs(argv) {
  const opts = { nodes: 0, seed: 1, base: '127.2.0.1', k: 16, udpPort: 30303, tcpPort: 20303 }
  const flags = { '--no-ping-back': 'noPingBack', '--ignore-stdin': 'ignoreStdin', '--verbose': 'verbose' }
  const valued = {
    '--nodes': 'nodes', '--seed': 'seed', '--base': 'base', '--k': 'k', '--udp-port': 'udpPort', '--tcp-port': 'tcpPort',
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a in flags) opts[flags[a]] = true
    else if (a in valued && i + 1 < argv.length) {
      const v = argv[++i]
      opts[valued[a]] = valued[a] === 'base' ? v : Number(v)
    } else fail(`unknown or incomplete argument ${a}\n${USAGE}`)
  }
  for (const key of ['nodes', 'seed', 'k', 'udpPort', 'tcpPort']) {
    if (!Number.isInteger(opts[key]) || opts[key] < 0) fail(`--${key} must be a non-negative integer\n${USAGE}`)
  }
  if (opts.nodes < 2) fail(`--nodes must be at least 2\n${USAGE}`)
  if (opts.udpPort + opts.nodes > 65536 || opts.tcpPort + opts.nodes > 65536) fail('port range exceeds 65535')
  return opts
}

const fail = failer('dpt_network')


const errors = errorLog('dpt_network')

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  errors.verbose = Boolean(opts.verbose)
  const t0 = performance.now()
  const common = new Common({ chain: Mainnet, customCrypto })
  const ips = addresses(opts.base, opts.nodes, fail)

  const nodes = ips.map((ip, i) => {
    const key = privateKey('dpt-network', opts.seed, i)
    const pubkey = secp256k1.publicKeyCreate(key, false).subarray(1) // 64 bytes, the discv4 node id
    const info = { ip, udp: opts.udpPort + i, tcp: opts.tcpPort + i, pubkey }
    const dpt = new DPT(key, {
      common,
      endpoint: { address: ip, udpPort: info.udp, tcpPort: info.tcp }, // the `from` of its PINGs
      shouldFindNeighbours: !opts.noPingBack,
      shouldGetDnsPeers: false,
      dnsAddr: '127.0.0.1', // DNS() calls dns.setServers() process-wide; keep even that on loopback
      onlyConfirmed: false,
      refreshInterval: 3_600_000, // cleared below anyway
    })
    clearInterval(dpt._refreshIntervalId) // no periodic FINDNODE to table members
    dpt.events.on('error', (err) => errors.error(i, err))
    return { ...info, dpt }
  })

  // Fill tables before any socket exists. A full, unsplittable bucket would make the k-bucket PING old entries;
  // mute that while filling (the newcomer is simply dropped), then restore DPT's handler.
  const edges = ringGraph(opts.nodes, opts.k, mulberry32(opts.seed * 0x9e3779b1 + 1))
  let dropped = 0
  nodes.forEach((node, i) => {
    const kb = node.dpt._kbucket
    const pingListeners = kb.events.listeners('ping')
    kb.events.removeAllListeners('ping')
    for (const j of edges[i]) {
      const p = nodes[j]
      kb.add({ id: p.pubkey, address: p.ip, udpPort: p.udp, tcpPort: p.tcp })
    }
    for (const l of pingListeners) kb.events.on('ping', l)
    dropped += edges[i].length - node.dpt.numPeers()
  })
  if (dropped) process.stderr.write(`dpt_network: ${dropped} table entries dropped by full buckets\n`)

  await Promise.all(
    nodes.map(
      (node) =>
        new Promise((resolve, reject) => {
          node.dpt._server._socket.once('error', reject) // e.g. EADDRINUSE
          node.dpt.events.once('listening', resolve)
          node.dpt.bind(node.udp, node.ip)
        }),
    ),
  ).catch((err) => fail(`bind failed: ${err.message}`))

  const out = nodes.map((node) => {
    const pub = hex(node.pubkey)
    const discport = node.udp === node.tcp ? '' : `?discport=${node.udp}`
    return {
      id: hex(keccak256(node.pubkey)),
      pubkey: pub,
      ip: node.ip,
      udp: node.udp,
      tcp: node.tcp,
      enode: `enode://${pub}@${node.ip}:${node.tcp}${discport}`,
      table: node.dpt.getPeers().map((p) => hex(p.id)),
    }
  })
  process.stdout.write(`${JSON.stringify({ ready: true, nodes: out })}\n`)
  const ms = Math.round(performance.now() - t0)
  process.stderr.write(`dpt_network: ${opts.nodes} nodes ready in ${ms} ms (ping-back ${!opts.noPingBack})\n`)

  let stopping = false
  const stop = (why) => {
    if (stopping) return
    stopping = true
    for (const node of nodes) {
      try {
        node.dpt.destroy()
      } catch {} // already closed
    }
    const summary = [...errors.counts].map(([kind, n]) => `${n}x ${kind}`).join('; ')
    process.stderr.write(`dpt_network: stopping (${why})${summary ? `; errors: ${summary}` : ''}\n`)
    // Pending ping timeouts and batch timers would keep the loop alive for seconds: exit now.
    process.exitCode = 0
    setImmediate(() => process.exit(0))
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
