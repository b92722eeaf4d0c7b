"""Node Discovery v5.1 (devp2p discv5-wire.md, discv5-theory.md): codec, sessions, service."""
