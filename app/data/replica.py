"""Whether a PostgreSQL standby keeps up with its primary: what `/readyz` and `/metrics` report.

On a standby (`pg_is_in_recovery()`), one statement reads: whether replay is paused
(`pg_wal_replay_pause()`), whether the WAL receiver is streaming (`pg_stat_wal_receiver`), and the
replay lag: `now() - pg_last_xact_replay_timestamp()` while WAL has been received that is not
replayed yet (`pg_last_wal_receive_lsn() != pg_last_wal_replay_lsn()`), else 0 (a quiet primary
sends nothing to replay: the standby is current however old its last transaction is). Before the
standby has replayed any commit since it started, the lag counts from its start.

The WAL receiver's `status` is shown only to superusers and roles with `pg_read_all_stats`; for
other roles the row is there (its `pid`) while a receiver runs, and that is what is checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

STANDBY_STATE = text(
    """
    SELECT pg_is_in_recovery() AS standby,
           CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END AS paused,
           (SELECT count(*) FROM pg_stat_wal_receiver) AS receivers,
           (SELECT status FROM pg_stat_wal_receiver LIMIT 1) AS receiver_status,
           CASE WHEN pg_is_in_recovery() AND pg_last_wal_receive_lsn() IS DISTINCT FROM pg_last_wal_replay_lsn()
                THEN greatest(0, extract(epoch FROM now() - coalesce(pg_last_xact_replay_timestamp(),
                                                                     pg_postmaster_start_time())))
                ELSE 0 END AS lag_seconds
    """
)


@dataclass(frozen=True)
class StandbyState:
    """A standby's replication, as read once."""

    paused: bool
    streaming: bool
    receiver_status: str | None  # None: not visible to this role (or no receiver)
    lag_seconds: float

    def problem(self, max_lag_seconds: float) -> str | None:
        """Why the standby should not serve (None: it may)."""
        if self.paused:
            return "replay is paused on this standby (pg_wal_replay_pause): its data stops at the pause"
        if not self.streaming:
            status = self.receiver_status or "no WAL receiver"
            return f"the standby's WAL receiver is not streaming ({status}): it receives no new data"
        if self.lag_seconds > max_lag_seconds:
            return f"replay lag {self.lag_seconds:.1f} s exceeds MAX_REPLICA_LAG_SECONDS ({max_lag_seconds:g} s)"
        return None


async def standby_state(engine: AsyncEngine) -> StandbyState | None:
    """The standby's replication state; None on a primary and on SQLite."""
    if engine.dialect.name != "postgresql":
        return None
    async with engine.connect() as conn:
        row = (await conn.execute(STANDBY_STATE)).one()
    if not row.standby:
        return None
    status = row.receiver_status
    streaming = row.receivers > 0 and (status is None or status == "streaming")
    return StandbyState(bool(row.paused), streaming, status, float(row.lag_seconds or 0))
