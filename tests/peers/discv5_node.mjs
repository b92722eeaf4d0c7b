// One independent discv5 node (@chainsafe/discv5) on loopback, for interop tests of monitor.discovery.v5.
//
//   node discv5_node.mjs <ip> <port> <seed> [--ping <enr>] [<enr> ...]
//
// Listed records go into its routing table (served to FINDNODE). With --ping it PINGs that record every 0.5 s
// (it initiates the handshake) and logs each answer's seq on stderr. Prints one JSON ready line with its record
// and node id on stdout; exits when stdin closes.
import { Discv5 } from '@chainsafe/discv5'
import { ENR, SignableENR } from '@chainsafe/enr'
import { privateKeyFromRaw } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { failer, privateKey } from './common.mjs'

const fail = failer('discv5_node.mjs')
const [ip, portText, seedText, ...rest] = process.argv.slice(2)
if (!ip || !portText || !seedText) fail('usage: discv5_node.mjs <ip> <port> <seed> [--ping <enr>] [<enr> ...]')
if (!ip.startsWith('127.')) fail(`refusing a non-loopback address ${ip}`)
const port = Number(portText)
let pingTarget = null
const table = []
for (let i = 0; i < rest.length; i++) {
  if (rest[i] === '--ping') pingTarget = rest[++i]
  else table.push(rest[i])
}

const raw = privateKey('discv5-interop', seedText, 0)
const enr = SignableENR.createV4(raw)
enr.ip = ip
enr.udp = port
const discv5 = Discv5.create({
  enr,
  privateKey: privateKeyFromRaw(raw),
  bindAddrs: { ip4: multiaddr(`/ip4/${ip}/udp/${port}`) },
  config: { enrUpdate: false, addrVotesToUpdateEnr: 1000 },
})
await discv5.start()
for (const text of table) discv5.addEnr(text)

let timer = null
if (pingTarget !== null) {
  const target = ENR.decodeTxt(pingTarget)
  timer = setInterval(() => {
    discv5.sendPing(target).then(
      (pong) => process.stderr.write(`pong seq ${pong.enrSeq}\n`),
      (err) => process.stderr.write(`ping failed: ${err}\n`),
    )
  }, 500)
}

process.stdout.write(`${JSON.stringify({ ready: true, enr: discv5.enr.encodeTxt(), node_id: discv5.enr.nodeId })}\n`)
process.stdin.on('end', async () => {
  if (timer !== null) clearInterval(timer)
  await discv5.stop()
  process.exit(0)
})
process.stdin.resume()
