"""Writes to the interaction log: ingestion (idempotent batches) and audited erasure."""

from khoshnud.interactions.services.erase import interaction_erase
from khoshnud.interactions.services.ingest import (
    BatchError,
    EventResult,
    events_ingest,
)

__all__ = ["BatchError", "EventResult", "events_ingest", "interaction_erase"]
