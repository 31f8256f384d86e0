"""`Query.rateLimit`: the client's rate-limit budget, as GitHub reports it (app/http/budgets.py)."""

from __future__ import annotations

import math
import time

import strawberry

from app.schema.fields import strawberry_only_as
from app.schema.runtime import Info


@strawberry.type(description="This client's rate-limit budget in the current window (GitHub's `rateLimit`).")
class RateLimit:
    limit: int = strawberry.field(description="Cost points a client may spend per window.")
    cost: int = strawberry.field(description="Points this query costs (its computed cost, at least 1).")
    remaining: int = strawberry.field(description="Points left in the window once this query is paid for.")
    used: int = strawberry.field(description="Points spent in the window, this query included.")
    reset_at: str = strawberry.field(description="When the window ends and the budget is whole again (ISO 8601, UTC).")


@strawberry.type
class RateLimitQueries:
    @strawberry_only_as("the budget is the request's own, kept by app/http/budgets.py; never cached")
    @strawberry.field(
        description="This client's rate-limit budget: the same numbers as the x-ratelimit-* headers. Null when "
        "the server sets no limit."
    )
    def rate_limit(self, info: Info) -> RateLimit | None:
        budget = info.context.record.rate
        if budget is None:
            return None
        cost = max(1, info.context.record.cost)
        used = budget.used + cost
        reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(math.ceil(budget.reset_at)))
        return RateLimit(
            limit=budget.limit, cost=cost, remaining=max(0, budget.limit - used), used=used, reset_at=reset
        )
