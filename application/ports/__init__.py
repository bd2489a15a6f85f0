"""Ports: the Protocols the use cases need, one small module per concern.

Adapters implement them; use cases depend only on them (and on the domain).
"""
