"""Measure who hosts Ethereum: crawl discovery, attribute IPs to hosting providers, report concentration."""

__version__ = "0.1.0"

__all__ = ["__version__"]
