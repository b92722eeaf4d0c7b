"""Peer-to-peer discovery: identities, records and the discv4 protocol."""
