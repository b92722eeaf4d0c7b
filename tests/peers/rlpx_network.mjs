// N @ethereumjs/devp2p RLPx + ETH peers in one Node process, on loopback only, for the RLPx interop tests.
//
//   node rlpx_network.mjs --nodes N [--seed S] [--base 127.4.0.1] [--tcp-port 40303] [--full F]
//                         [--client-id ID] [--ignore-stdin] [--verbose]
//
// Prints ONE JSON line on stdout once every peer listens ({"ready": true, "nodes": [...]}), then runs until stdin
// closes (unless --ignore-stdin) or SIGTERM/SIGINT. Diagnostics go to stderr only.
//
// Why it looks like this:
// - Each peer has its own loopback address and TCP port, like dpt_network.mjs (devp2p keys peers by address+port).
// - Peers offer eth/68 and answer a dialer's Hello with theirs, then send a mainnet Status (network id 1, the
//   mainnet genesis, the fork id Common computes for its default hardfork) as soon as both Hellos are exchanged.
// - The last F peers are "full" (maxPeers 0): devp2p still completes the Hello exchange with an inbound dialer,
//   then disconnects it with TOO_MANY_PEERS, which is what a crawler meets most on mainnet.
// - Signing/recovery use the native `secp256k1` addon through Common({customCrypto}), as in dpt_network.mjs. The
//   ECIES code of devp2p 10.x calls noble's pure-JS curve directly for ECDH and public keys (~8 ms per ECDH, three
//   per handshake: ~35 handshakes/s for the whole process), so those two curve primitives are pointed at the same
//   native addon below. Only arithmetic is swapped; every protocol step (ECIES, KDF, MACs, framing, Hello, Status)
//   stays devp2p's own code.
import { Common, Mainnet } from '@ethereumjs/common'
import { ETH, RLPx } from '@ethereumjs/devp2p'
import { bigIntToBytes, hexToBytes, utf8ToBytes } from '@ethereumjs/util'
import { keccak256 } from 'ethereum-cryptography/keccak.js'
import { secp256k1 as nobleSecp256k1 } from 'ethereum-cryptography/secp256k1.js'
import secp256k1 from 'secp256k1'
import { addresses, customCrypto, errorLog, failer, hex, privateKey, utf8 } from './common.mjs'

const USAGE =
  'usage: node rlpx_network.mjs --nodes N [--seed S] [--base 127.4.0.1] [--tcp-port 40303] [--full F] ' +
  '[--client-id ID] [--ignore-stdin] [--verbose]'

const MAINNET_GENESIS = '0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3'
// Mainnet's terminal total difficulty: what every post-Merge eth/68 node announces.
const MAINNET_TTD = 58750000000000000000000n

function parseArgs(argv) {
  const opts = { nodes: 0, seed: 1, base: '127.4.0.1', tcpPort: 40303, full: 0, clientId: null }
  const flags = { '--ignore-stdin': 'ignoreStdin', '--verbose': 'verbose' }
  const valued = {
    '--nodes': 'nodes', '--seed': 'seed', '--base': 'base', '--tcp-port': 'tcpPort', '--full': 'full',
    '--client-id': 'clientId',
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a in flags) opts[flags[a]] = true
    else if (a in valued && i + 1 < argv.length) {
      const v = argv[++i]
      opts[valued[a]] = ['base', 'clientId'].includes(valued[a]) ? v : Number(v)
    } else fail(`unknown or incomplete argument ${a}\n${USAGE}`)
  }
  for (const key of ['nodes', 'seed', 'tcpPort', 'full']) {
    if (!Number.isInteger(opts[key]) || opts[key] < 0) fail(`--${key} must be a non-negative integer\n${USAGE}`)
  }
  if (opts.nodes < 1) fail(`--nodes must be at least 1\n${USAGE}`)
  if (opts.full > opts.nodes) fail('--full cannot exceed --nodes')
  if (opts.tcpPort + opts.nodes > 65536) fail('port range exceeds 65535')
  return opts
}

const fail = failer('rlpx_network')


// noble's signatures: getSharedSecret(privateKey, publicKey, compressed = true) returns the shared point;
// getPublicKey(privateKey, compressed = true). The addon's publicKeyTweakMul(P, k) is k * P. The shared point is
// returned uncompressed whatever is asked: its only caller here (secp256k1-compat's ecdh) re-parses it with
// Point.fromHex, which takes either form, and a compressed one would cost a pure-JS square root per ECDH.
nobleSecp256k1.getSharedSecret = (priv, pub) => secp256k1.publicKeyTweakMul(Uint8Array.from(pub), priv, false)
nobleSecp256k1.getPublicKey = (priv, compressed = true) => secp256k1.publicKeyCreate(priv, compressed)

const errors = errorLog('rlpx_network')

function sendStatus(peer, i) {
  const eth = peer.getProtocols().find((p) => p instanceof ETH)
  if (eth === undefined) return
  eth.events.on('status', () => {}) // the dialer's Status: nothing to do, it disconnects next
  try {
    eth.sendStatus({
      td: bigIntToBytes(MAINNET_TTD),
      bestHash: keccak256(utf8(`rlpx-network/head/${i}`)),
      genesisHash: hexToBytes(MAINNET_GENESIS),
    })
  } catch (err) {
    errors.error(i, err)
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  errors.verbose = Boolean(opts.verbose)
  const t0 = performance.now()
  const common = new Common({ chain: Mainnet, customCrypto })
  const ips = addresses(opts.base, opts.nodes, fail)
  const firstFull = opts.nodes - opts.full

  const nodes = ips.map((ip, i) => {
    const key = privateKey('rlpx-network', opts.seed, i)
    const pubkey = secp256k1.publicKeyCreate(key, false).subarray(1)
    const full = i >= firstFull
    const rlpx = new RLPx(key, {
      common,
      capabilities: [ETH.eth68],
      clientId: opts.clientId === null ? undefined : utf8ToBytes(opts.clientId),
      listenPort: opts.tcpPort + i,
      maxPeers: full ? 0 : 100_000, // a crawler's dials come and go; only "full" peers refuse them
      timeout: 10_000,
    })
    clearInterval(rlpx._refillIntervalId) // no outbound dialling: these peers only answer
    // devp2p writes each frame's header and body in two writes; with Nagle on, the body waits for the dialer's
    // delayed ACK (~40 ms on Linux) at every message. Real clients (geth: Go's default) run with TCP_NODELAY.
    rlpx._server.on('connection', (socket) => socket.setNoDelay(true))
    rlpx.events.on('error', (err) => errors.error(i, err))
    rlpx.events.on('peer:error', (_peer, err) => errors.error(i, err))
    rlpx.events.on('peer:added', (peer) => sendStatus(peer, i))
    return { ip, tcp: opts.tcpPort + i, pubkey, full, rlpx }
  })

  await Promise.all(
    nodes.map(
      (node) =>
        new Promise((resolve, reject) => {
          node.rlpx._server.once('error', reject) // e.g. EADDRINUSE
          node.rlpx.events.once('listening', resolve)
          node.rlpx.listen(node.tcp, node.ip)
        }),
    ),
  ).catch((err) => fail(`listen failed: ${err.message}`))

  const out = nodes.map((node) => ({
    id: hex(keccak256(node.pubkey)),
    pubkey: hex(node.pubkey),
    ip: node.ip,
    tcp: node.tcp,
    full: node.full,
    client_id: new TextDecoder().decode(node.rlpx.clientId),
    enode: `enode://${hex(node.pubkey)}@${node.ip}:${node.tcp}`,
  }))
  const forkHash = common.forkHash(common.hardfork())
  const nextFork = common.nextHardforkBlockOrTimestamp(common.hardfork())
  const status = { network_id: Number(common.chainId()), genesis: MAINNET_GENESIS.slice(2), fork_hash: forkHash.slice(2),
    fork_next: nextFork === null ? 0 : Number(nextFork), hardfork: common.hardfork() }
  process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid, nodes: out, status })}\n`)
  const ms = Math.round(performance.now() - t0)
  process.stderr.write(`rlpx_network: ${opts.nodes} peers ready in ${ms} ms (${opts.full} full)\n`)

  let stopping = false
  const stop = (why) => {
    if (stopping) return
    stopping = true
    for (const node of nodes) {
      try {
        node.rlpx.destroy()
      } catch {} // already closed
    }
    const summary = [...errors.counts].map(([kind, n]) => `${n}x ${kind}`).join('; ')
    process.stderr.write(`rlpx_network: stopping (${why})${summary ? `; errors: ${summary}` : ''}\n`)
    process.exitCode = 0
    setImmediate(() => process.exit(0))
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  if (!opts.ignoreStdin) {
    process.stdin.on('end', () => stop('stdin closed'))
    process.stdin.on('close', () => stop('stdin closed'))
    process.stdin.resume()
  }
}

main().catch((err) => fail(err?.stack ?? String(err)))
