// Pieces shared by the discv5 test-peer scripts (discv5_network.mjs, discv5_probe.mjs).
import { createNodeId, setV4Crypto } from '@chainsafe/enr'
import { keccak256 } from 'ethereum-cryptography/keccak.js'
import secp256k1 from 'secp256k1'

// The wire crypto hook is not among the package's exports; import the very module file discv5 itself imports, so
// that the setter reaches the instance the session code reads.
const { defaultCrypto, setDiscv5Crypto } = await import(
  new URL('./node_modules/@chainsafe/discv5/lib/util/crypto.js', import.meta.url).href
)

// ECDH as discv5 needs it: the shared point itself, compressed (33 bytes), not a hash of it.
const compressedPoint = (x, y) => {
  const out = new Uint8Array(33)
  out[0] = 0x02 | (y[31] & 1)
  out.set(x, 1)
  return out
}

export function installNativeCrypto() {
  setDiscv5Crypto({
    // noble's hasher object stays: the HKDF helpers need its shape, and hashing is not where the time goes.
    sha256: defaultCrypto.sha256,
    secp256k1: {
      publicKeyVerify: (pk) => secp256k1.publicKeyVerify(pk),
      publicKeyCreate: (sk) => secp256k1.publicKeyCreate(sk, true),
      publicKeyConvert: (pk, compress) => secp256k1.publicKeyConvert(pk, compress),
      sign: (msg, sk) => secp256k1.ecdsaSign(msg, sk).signature,
      verify: (pk, msg, sig) => secp256k1.ecdsaVerify(sig, msg, pk),
      deriveSecret: (sk, pk) => secp256k1.ecdh(pk, sk, { hashfn: compressedPoint }, new Uint8Array(33)),
      generatePrivateKey: defaultCrypto.secp256k1.generatePrivateKey,
      privateKeyVerify: (sk) => secp256k1.privateKeyVerify(sk),
    },
    hkdf: defaultCrypto.hkdf,
  })
  setV4Crypto({
    hash: (data) => keccak256(data),
    publicKey: (sk) => secp256k1.publicKeyCreate(sk, true),
    sign: (sk, msg) => secp256k1.ecdsaSign(keccak256(msg), sk).signature,
    verify: (pk, msg, sig) => secp256k1.ecdsaVerify(sig, keccak256(msg), pk),
    nodeId: (pk) => createNodeId(keccak256(secp256k1.publicKeyConvert(pk, false).subarray(1))),
  })
}

