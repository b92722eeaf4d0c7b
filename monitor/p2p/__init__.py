"""What every peer-to-peer protocol here shares: node keys and ids, the address policy (``--netrestrict``,
global-only), typed RLP helpers and the UDP transport seam. Imports nothing above ``monitor.errors``."""
