"""A second sampling source: the peers of the user's own node, read through web3.py's admin namespace.

- :mod:`monitor.rpc.admin`: ``admin_peers`` / ``admin_nodeInfo`` answers as typed values (pure, light);
- :mod:`monitor.rpc.client`: the web3.py client that fetches them (imports web3, ~1 s: only loaded when used).
"""
