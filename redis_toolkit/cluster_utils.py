"""Redis Cluster utilities (the design's import path): ``from redis_toolkit.cluster_utils import
ClusterOperations``.

- :class:`ClusterOperations` / :class:`AsyncClusterOperations`: cluster-wide operations over a
  toolkit (``ClusterOperations(toolkit)``, or simply ``toolkit.cluster``): ``scan_cluster``,
  ``mget_cluster``, ``mset_cluster``, ``get_nodes_info``, ``keyslot``, ``hash_tag``,
  ``same_slot``.
- Pure helpers, usable without a cluster: :func:`keyslot`, :func:`hash_tag`,
  :func:`hash_tag_of`, :func:`same_slot`, :func:`group_by_slot`, :func:`require_same_slot`,
  :func:`crc16`, :class:`ScanResult`.

See docs/CLUSTER_GUIDE.md.
"""

from __future__ import annotations

from ._async.cluster import AsyncClusterOperations
from ._sync.cluster import ClusterOperations
from .cluster_slots import (
    SLOT_COUNT,
    ScanResult,
    crc16,
    group_by_slot,
    hash_tag,
    hash_tag_of,
    keyslot,
    require_same_slot,
    same_slot,
)
from .exceptions import ClusterConfigError, CrossSlotError

__all__ = [
    "ClusterOperations",
    "AsyncClusterOperations",
    "ScanResult",
    "SLOT_COUNT",
    "crc16",
    "keyslot",
    "hash_tag",
    "hash_tag_of",
    "same_slot",
    "group_by_slot",
    "require_same_slot",
    "ClusterConfigError",
    "CrossSlotError",
]
