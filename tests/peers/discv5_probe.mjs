// One discv5 FINDNODE from a throwaway @chainsafe/discv5 node: checks that a test network answers on the wire,
// independently of our own (Python) discv5 code.
//
//   node discv5_probe.mjs --enr ENR_TEXT --bind 127.52.255.1:22999 [--distances 256,255,254]
//
// Prints ONE JSON line on stdout: {"self": its node id, "enrs": ["enr:...", ...]} (the NODES answer), or exits 1
// with the error on stderr. The probe's own record may be among the answers: the node it asked adds it to its table.
import { randomBytes } from 'node:crypto'
import { ENR, SignableENR } from '@chainsafe/enr'
import { Discv5 } from '@chainsafe/discv5'
import { multiaddr } from '@multiformats/multiaddr'
import { failer } from './common.mjs'
import { installNativeCrypto } from './discv5_common.mjs'

const fail = failer('discv5_probe')

function parseArgs(argv) {
  const opts = { enr: '', bind: '', distances: '256,255,254' }
  for (let i = 0; i + 1 < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '')
    if (!(key in opts)) fail(`unknown argument ${argv[i]}`)
    opts[key] = argv[i + 1]
  }
  const [ip, port] = opts.bind.split(':')
  if (!opts.enr || !ip?.startsWith('127.') || !Number.isInteger(Number(port))) fail('need --enr and --bind 127.x.y.z:port')
  return { remote: ENR.decodeTxt(opts.enr), ip, port: Number(port), distances: opts.distances.split(',').map(Number) }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  installNativeCrypto()
  let key = randomBytes(32)
  const enr = SignableENR.createV4(key)
  enr.ip = opts.ip
  enr.udp = opts.port
  const discv5 = Discv5.create({
    enr,
    privateKey: { type: 'secp256k1', raw: key },
    bindAddrs: { ip4: multiaddr(`/ip4/${opts.ip}/udp/${opts.port}`) },
    config: { enrUpdate: false, requestTimeout: 3000 },
  })
  key = null
  await discv5.start()
  try {
    const enrs = await discv5.sendFindNode(opts.remote, opts.distances)
    process.stdout.write(`${JSON.stringify({ self: enr.nodeId, enrs: enrs.map((e) => e.encodeTxt()) })}\n`)
  } catch (err) {
    fail(`FINDNODE failed: ${err?.message ?? err}`)
  } finally {
    await discv5.stop()
  }
  process.exit(0)
}

main().catch((err) => {
  process.stderr.write(`discv5_probe: ${err?.stack ?? err}\n`)
  process.exit(1)
})
