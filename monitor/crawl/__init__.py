"""Crawling: a protocol-agnostic engine and the protocol drivers that plug into it."""
