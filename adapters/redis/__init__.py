"""Adapters on Redis (or Valkey, or a Redis Cluster): the quota store."""
