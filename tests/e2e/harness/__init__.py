"""The real pieces as separate processes on loopback, with faults to inject (see docs/reliability.md)."""
