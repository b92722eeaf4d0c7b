"""Node Discovery Protocol v4: wire codec, protocol state and the UDP transport."""
