"""Outputs that combine every stage: the snapshot command, the HTML report."""
