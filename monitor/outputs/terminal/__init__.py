"""The terminal report (rich tables) of an analysis; the HTML report lives beside it in ``monitor.outputs``."""
