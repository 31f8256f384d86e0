"""One operation's answer: from the result cache, the compiler, or Strawberry, each read in one snapshot.

- **Plans**: a document (its text and operation name) is parsed, validated and checked against
  the compiler once per worker (`Plan`); from then on each request of it costs a dictionary
  look-up. Trusted documents are planned at start-up and never forgotten (`pin`).
- **The compiler first**: a valid query whose every field is declared for the compiler is
  answered by ONE SQL statement returning the response's JSON (app/execution/compiler.py),
  passed on unparsed, from its first request on; its limits are checked on every request, the
  statement built once per request shape. Anything else (introspection, a field the compiler
  leaves to Strawberry, a document that does not parse or validate, a refused limit or argument)
  goes to Strawberry, which reports errors its way. A statement timeout is TIMEOUT, any other
  fault an internal error: a failed compiled answer is never run a second time by Strawberry.
- **Results** are cached per worker by (query, operation, variables, database, data version), each under
  the version read in its own snapshot (`RequestDatabase.version`), never another; identical
  requests in flight are answered once (coalescing). The version a request looks up is the
  worker's (`DataVersion`), which every answer read moves forward, never back.
- **EXECUTION** (setting): `compiled` (the default) as above; `strawberry` turns the compiler
  off; `verify` runs Strawberry beside it on its own connection and answers
  INTERNAL_SERVER_ERROR, with the difference in the log, when they disagree (the tests' mode).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, OperationType, parse, specified_rules, validate
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types.graphql import OperationType as StrawberryOperationType

from app.config import Settings
from app.data.session import RequestDatabase
from app.data.versions import DataVersion
from app.errors import ApiError, BadRequest
from app.execution import compiler
from app.execution.executable import schema
from app.execution.faults import report_errors
from app.execution.input_checks import FieldRepeatRule, TextInputRule, check_variables
from app.execution.query_limits import check_document, heavy_slots
from app.lru import LRU
from app.request import Operation, RequestRecord
from app.schema.runtime import Context
from app.schema.timeline import TimelineFacts, timeline_facts

logger = logging.getLogger("app.execution")

# What Strawberry validates a document with (app.execution.executable adds the two rules of ours).
RULES = (*specified_rules, TextInputRule, FieldRepeatRule, MaybeNullValidationRule, OneOfInputValidationRule)


@dataclass(frozen=True)
class Plan:
    """What is known of a document before any request of it runs."""

    document: DocumentNode | None  # parsed and valid; None: Strawberry answers (and reports what is wrong)
    operation: OperationDefinitionNode | None = None  # the operation that runs
    compiled: bool = False  # every field it selects is the compiler's
    cacheable: bool = True  # its answer is the same for every client (`rateLimit` is the client's own)
    costed_on_data: bool = False  # its cost reads what the data holds (`timeline`: app.schema.timeline.TimelineFacts)

    @property
    def name(self) -> str | None:
        return self.operation.name.value if self.operation is not None and self.operation.name else None


STRAWBERRY_ANSWERS = Plan(document=None)


@dataclass
class Answer:
    """An operation's answer: `data` is Strawberry's dict, or JSON text (orjson.Fragment) from the
    compiler or the cache."""

    data: Any = None
    errors: list[GraphQLError] | None = None
    version: int | None = None  # the data version it was read at; None: it read no data
    cost: int = 0
    actual: int | None = None  # objects in `data`, where counted (cheap answers)
    cacheable: bool = True
    status: int | None = None  # an HTTP status the answer demands (an APQ refusal's)
    cache_control: str | None = None  # and its Cache-Control
    database: str | None = None  # the identity of the database it was read from (with `version`)

    @property
    def is_request_error(self) -> bool:
        """No execution started: no data, and no error belongs to a field (field errors have a path)."""
        return self.data is None and bool(self.errors) and all(not error.path for error in self.errors or ())

    def extensions(self) -> dict[str, Any] | None:
        """`extensions.cost` of a successful answer: what the limits computed, and the objects returned."""
        if self.errors or not self.cost:
            return None
        cost = {"requested": self.cost}
        if self.actual is not None:
            cost["actual"] = self.actual
        return {"cost": cost}


@dataclass
class _Cached:
    data: bytes
    operation: str | None
    cost: int
    actual: int | None
    version: int | None
    database: str | None


def count_objects(data: Any) -> int:
    """Objects in an answer's `data` (every JSON object under it): what its cost counts, as returned."""
    count = 0
    stack = list(data.values()) if isinstance(data, dict) else []
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            count += 1
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return count


def _weight(request_key: Any) -> int:
    """What keeping something per request costs, roughly: its query's and variables' length."""
    query, _operation, variables = request_key
    return len(query) + len(variables)


def _request_key(operation: Operation) -> tuple[str, str | None, bytes]:
    """(query, operation name, variables as sorted JSON): what identifies a request's answer."""
    variables = orjson.dumps(operation.variables or {}, option=orjson.OPT_SORT_KEYS)
    return (operation.query or "", operation.operation_name, variables)


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark a future's exception as seen: its followers re-raise it, and with none it is no loss."""
    if not future.cancelled():
        future.exception()


@dataclass
class Executor:
    """Per worker: plans, checked limits, prepared statements, the result cache, the data version."""

    settings: Settings
    engine: AsyncEngine | None = None  # set when the app starts
    sqlite_reader: Engine | None = None  # SQLite: reads in the event loop's thread (app.data.engine)
    statement_pool: Any = None  # PostgreSQL: asyncpg's pool for compiled statements (app.data.engine)
    version: DataVersion = field(init=False)

    def __post_init__(self) -> None:
        settings = self.settings
        self.version = DataVersion(settings.data_version_check_seconds, settings.data_version_fallback_seconds)
        self.plans = LRU(4096, 16_000_000)  # (query, operation name) -> Plan, weighed by the query's length
        self.pinned: dict[tuple[str, str | None], Plan] = {}  # trusted documents: planned once, kept
        # By request ((query, operation, variables)), each weighed by the request's length: bounded in bytes too.
        self.checked = LRU(4096, 16_000_000)  # -> (cost, refusal or None)
        self.prepared = LRU(4096, 16_000_000)  # -> compiler.Prepared
        self.results = LRU(settings.result_cache_size, settings.result_cache_bytes)
        self.inflight: dict[Hashable, asyncio.Future[Answer]] = {}
        self.facts: TimelineFacts | None = None  # what the data holds, for costs that read it
        self.facts_version: tuple[str, int] | None = None  # the (database, data version) they were read at
        self._facts_lock = asyncio.Lock()

    # -- plans ---------------------------------------------------------------------------------

    def plan(self, query: str, operation_name: str | None) -> Plan:
        key = (query, operation_name)
        found = self.pinned.get(key) or self.plans.get(key)
        if found is None:
            found = self._make_plan(query, operation_name)
            self.plans.put(key, found, len(query))
        return found

    def pin(self, query: str, operation_name: str | None) -> Plan:
        """Plan a trusted document for good; a document that does not parse or validate is refused (ValueError).

        A trusted document is the server's own client's: this server's size and token limits do not
        apply to it (its cost and depth still do, on every request).
        """
        try:
            document = parse(query)
        except GraphQLError as error:
            raise ValueError(error.message) from None
        errors = validate(schema._schema, document, RULES)
        if errors:
            raise ValueError("; ".join(error.message for error in errors))
        plan = self._plan_of(query, document, operation_name)
        if plan.document is None:
            raise ValueError("name the operation to run (the document has several), and make it a query")
        self.pinned[(query, operation_name)] = plan
        return plan

    def _make_plan(self, query: str, operation_name: str | None) -> Plan:
        settings = self.settings
        if len(query.encode()) > settings.max_query_bytes:
            return STRAWBERRY_ANSWERS
        try:
            document = parse(query, max_lexical_tokens=settings.max_tokens, max_comments=settings.max_tokens)
        except GraphQLError:
            return STRAWBERRY_ANSWERS
        if validate(schema._schema, document, RULES):
            return STRAWBERRY_ANSWERS
        return self._plan_of(query, document, operation_name)

    def _plan_of(self, query: str, document: DocumentNode, operation_name: str | None) -> Plan:
        """The plan of a parsed, valid document."""
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if operation_name is None:
            chosen = operations if len(operations) == 1 else []
        else:
            chosen = [op for op in operations if op.name is not None and op.name.value == operation_name]
        if len(chosen) != 1 or chosen[0].operation is not OperationType.QUERY:
            return STRAWBERRY_ANSWERS
        compiled = (
            self.settings.execution != "strawberry" and compiler.unsupported(schema, document, operation_name) is None
        )
        return Plan(
            document,
            chosen[0],
            compiled=compiled,
            cacheable="rateLimit" not in query,
            costed_on_data="timeline" in query,
        )

    # -- answers -------------------------------------------------------------------------------

    async def _read_facts(self, plan: Plan) -> None:
        """Read what the data holds, once per data version, before a plan whose cost needs it is checked.

        One request reads them while the others wait. If they cannot be read (an outage, a timeout), the
        last ones read stay, or none: such a plan is then costed at the most it could ever hold.
        """
        if not plan.costed_on_data or self.engine is None:
            return
        try:
            number = await self.version.current(self.engine, self.sqlite_reader)
            version = (self.version.database, number)  # versions of one database only compare
            if self.facts is not None and self.facts_version == version:
                return
            async with self._facts_lock:
                if self.facts is not None and self.facts_version == version:
                    return
                db = RequestDatabase(self.engine, self.sqlite_reader, self.statement_pool)
                try:
                    facts = await timeline_facts(db)
                finally:
                    await db.close()
        except Exception as error:  # noqa: BLE001 - costed without them; the request itself reports any outage
            logger.warning("the timeline's numbers could not be read (%s: %s)", type(error).__name__, error)
            return
        if self.facts_version != version:
            self.checked = LRU(4096, 16_000_000)  # costs checked on other data are checked again
        self.facts, self.facts_version = facts, version

    async def cost_of(self, operation: Operation) -> int:
        """What an operation will cost, known before it runs (what its client's budget reserves).

        Its computed cost (app.execution.query_limits, on its coerced variables); 1 for one that will be
        refused before it runs (no query, a document that does not parse or validate, a limit passed).
        The checks are kept per request, so executing it next checks nothing again.
        """
        if operation.query is None or check_variables(operation.variables) is not None:
            return 1
        plan = self.plan(operation.query, operation.operation_name)
        if plan.document is None:
            return 1
        await self._read_facts(plan)
        cost, refused = self._checked(plan, operation, _request_key(operation))
        if refused is not None or cost > self.settings.max_query_cost:
            return 1
        return max(1, cost)

    async def execute(self, operation: Operation, record: RequestRecord, method: str) -> Answer:
        """The answer to one operation whose query text is known (persisted queries resolved)."""
        refused = check_variables(operation.variables)
        if refused is not None:
            record.error_codes.append(refused.code)
            return Answer(errors=[refused])
        if operation.query is None:
            raise BadRequest("No GraphQL query found in the request", status=400)
        plan = self.plan(operation.query, operation.operation_name)
        await self._read_facts(plan)
        request_key = _request_key(operation)
        if plan.document is None or not plan.cacheable or self.results.size <= 0:
            return await self._answer(plan, operation, request_key, record, method)
        assert self.engine is not None
        believed = await self.version.current(self.engine, self.sqlite_reader)
        key = (request_key, (self.version.database, believed))
        return await self._coalesced(key, plan, operation, request_key, record, method)

    async def _coalesced(
        self,
        result_key: Hashable,
        plan: Plan,
        operation: Operation,
        request_key: Hashable,
        record: RequestRecord,
        method: str,
    ) -> Answer:
        """From the cache; or the answer of the same request in flight; or answered here, once.

        Identical requests arriving while one is answered wait for it and get its very answer,
        errors included, or its exception: a follower never re-registers the key (which would
        orphan the owner's future). Only an owner that was cancelled (its client went away)
        leaves its followers to try again, one of them becoming the owner.
        """
        while True:
            cached: _Cached | None = self.results.get(result_key)
            if cached is not None:
                record.served_by = "cache"
                record.operation = cached.operation
                record.cost += cached.cost
                record.data_version = cached.version
                return Answer(
                    orjson.Fragment(cached.data),
                    None,
                    cached.version,
                    cached.cost,
                    cached.actual,
                    database=cached.database,
                )
            pending = self.inflight.get(result_key)
            if pending is None:
                break
            try:
                answer = await asyncio.shield(pending)
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if pending.cancelled() and not (current is not None and current.cancelling()):
                    continue  # the owner was cancelled, not this request: answer it afresh
                raise
            record.served_by = "cache"  # the same answer, shared while it was made
            record.cost += answer.cost
            record.operation = plan.name
            record.data_version = answer.version
            for error in answer.errors or ():
                record.error_codes.append(str((error.extensions or {}).get("code")))
            return answer

        owned: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        owned.add_done_callback(_retrieve)
        self.inflight[result_key] = owned
        try:
            answer = await self._answer(plan, operation, request_key, record, method)
        except Exception as error:
            owned.set_exception(error)
            raise
        except BaseException:
            owned.cancel()
            raise
        finally:
            if self.inflight.get(result_key) is owned:
                del self.inflight[result_key]
        if not answer.errors and answer.data is not None and answer.cacheable:
            data = (
                answer.data if isinstance(answer.data, orjson.Fragment) else orjson.Fragment(orjson.dumps(answer.data))
            )
            text = orjson.dumps(data)
            # Under the version (and database) it was read at; an answer that read nothing, the one looked up.
            database, version = result_key[1]  # type: ignore[index]
            if answer.version is not None:
                database, version = answer.database, answer.version
            entry = _Cached(text, record.operation, answer.cost, answer.actual, version, database)
            self.results.put((request_key, (database, version)), entry, len(text) + _weight(request_key))  # the key too
        owned.set_result(answer)
        return answer

    async def _answer(
        self, plan: Plan, operation: Operation, request_key: Hashable, record: RequestRecord, method: str
    ) -> Answer:
        """Not cached: compiled when the plan allows, else Strawberry; on a database of its own, one snapshot."""
        assert self.engine is not None
        database = RequestDatabase(self.engine, self.sqlite_reader, self.statement_pool)
        context = Context(db=database, settings=self.settings, record=record)
        try:
            answer = None
            if plan.compiled and plan.document is not None:
                answer = await self._compiled(plan, operation, request_key, context)
            if answer is None:
                answer = await self._strawberry(plan, operation, request_key, context, method)
            answer.cacheable = plan.cacheable
            if answer.version is not None:
                answer.database = database.database
                self.version.observe(answer.version, answer.database)
                record.data_version = answer.version
            return answer
        finally:
            db = context.db
            await db.close()
            record.statements += db.statements
            record.db_ms += db.seconds * 1000

    def _checked(self, plan: Plan, operation: Operation, request_key: Hashable) -> tuple[int, ApiError | None]:
        checked = self.checked.get(request_key)
        if checked is None:
            assert plan.document is not None
            checked = check_document(
                schema._schema,
                plan.document,
                operation.variables,
                operation.operation_name,
                self.settings,
                self.facts if plan.costed_on_data else None,
            )
            self.checked.put(request_key, checked, _weight(request_key))
        return checked

    async def _compiled(
        self, plan: Plan, operation: Operation, request_key: Hashable, context: Context
    ) -> Answer | None:
        """The compiler's answer, or None for Strawberry to answer (decided before any SQL)."""
        cost, refused = self._checked(plan, operation, request_key)
        record = context.record
        if refused is not None or record.cost + cost > self.settings.max_query_cost:
            return None  # over a limit (a batch's shared one included): Strawberry reports it
        prepared = self.prepared.get(request_key)
        if prepared is None:
            assert plan.document is not None
            try:
                prepared = compiler.prepare(
                    schema, plan.document, operation.operation_name, operation.variables, context
                )
            except (compiler.Unsupported, ApiError):
                # A shape the compiler does not cover, or arguments the client got wrong (a cursor, a
                # page size): Strawberry answers, and reports the error with its path. No SQL has run.
                return None
            self.prepared.put(request_key, prepared, _weight(request_key))
        record.served_by = "executor"
        record.operation = plan.name
        record.cost += cost  # before running: the operations of a batch share one limit
        context.db.single_statement = True
        try:
            if cost < self.settings.heavy_query_cost:
                text = await compiler.execute(prepared, context)
            else:
                # Heavy operations take turns and read SQLite off the loop, as on Strawberry's path.
                context.db.sync_engine = None
                async with heavy_slots(self.settings.max_heavy_operations).taken(record):
                    text = await compiler.execute(prepared, context)
        except Exception as error:  # noqa: BLE001 - reported as TIMEOUT or masked as an internal error
            errors = [GraphQLError(str(error), original_error=error)]
            report_errors(errors, context)
            return Answer(errors=errors)
        version = await context.db.version()
        actual = count_objects(orjson.loads(text)) if cost < self.settings.heavy_query_cost else None
        if self.settings.execution == "verify":
            return await self._verified(text, operation, context, cost, actual, version)
        return Answer(orjson.Fragment(text), None, version, cost, actual)

    async def _strawberry(
        self, plan: Plan, operation: Operation, request_key: Hashable, context: Context, method: str
    ) -> Answer:
        """Strawberry's answer, its errors reported its way; its snapshot's version read after it."""
        record = context.record
        before = record.cost
        if plan.document is not None:
            context.cost_facts = self.facts if plan.costed_on_data else None  # a refusal's cost as checked here
            cost, refused = self._checked(plan, operation, request_key)
            if refused is None and record.cost + cost <= self.settings.max_query_cost:
                context.checked_cost = cost  # QueryLimits need not check again (nor without the data's facts)
                record.cost += cost
                record.operation = plan.name
        try:
            result = await schema.execute(
                operation.query,
                variable_values=operation.variables,
                context_value=context,
                operation_name=operation.operation_name,
                # HEAD is a GET without the body (Strawberry knows no HEAD: a ValueError, a 500)
                allowed_operation_types=StrawberryOperationType.from_http(
                    "GET" if method == "HEAD" else method  # type: ignore[arg-type]
                ),
            )
        except CannotGetOperationTypeError as error:
            raise BadRequest(error.as_http_error_reason(), status=400) from None
        except InvalidOperationTypeError as error:
            raise BadRequest(error.as_http_error_reason(method), status=400) from None
        except MissingQueryError:
            raise BadRequest("No GraphQL query found in the request", status=400) from None
        cost = record.cost - before
        version = await context.db.version()
        actual = None
        if not result.errors and isinstance(result.data, dict) and cost < self.settings.heavy_query_cost:
            actual = count_objects(result.data)
        return Answer(result.data, list(result.errors) if result.errors else None, version, cost, actual)

    async def _verified(
        self, answered: str, operation: Operation, context: Context, cost: int, actual: int | None, version: int | None
    ) -> Answer:
        """EXECUTION=verify: Strawberry answers too, on a connection of its own; they must agree."""
        shadow = Context(
            db=RequestDatabase(context.db.engine, context.db.sync_engine),
            settings=self.settings,
            record=RequestRecord(),
            checked_cost=cost,  # as checked for the compiled answer (on the data's facts)
        )
        try:
            expected = await schema.execute(
                operation.query or "",
                variable_values=operation.variables,
                context_value=shadow,
                operation_name=operation.operation_name,
            )
        finally:
            await shadow.db.close()
        fast = orjson.loads(answered)
        if expected.errors is None and _same(expected.data, fast):
            return Answer(orjson.Fragment(answered), None, version, cost, actual)
        difference = GraphQLError(
            "EXECUTION=verify: the fast path and Strawberry disagree",
            original_error=VerifyMismatch(
                f"query {operation.query!r} variables {operation.variables!r}: "
                f"Strawberry {orjson.dumps(expected.data).decode()} errors {expected.errors!r}; "
                f"fast path {orjson.dumps(fast).decode()}"
            ),
        )
        errors = [difference]
        report_errors(errors, context)
        return Answer(errors=errors)


class VerifyMismatch(Exception):
    """The fast path's answer differs from Strawberry's (EXECUTION=verify); the message says how."""


def _same(expected: Any, found: Any) -> bool:
    """Equal as JSON values, key order included."""
    if isinstance(expected, dict):
        return (
            isinstance(found, dict)
            and list(expected) == list(found)
            and all(_same(value, found[key]) for key, value in expected.items())
        )
    if isinstance(expected, list):
        return isinstance(found, list) and len(expected) == len(found) and all(map(_same, expected, found))
    if isinstance(expected, bool) or isinstance(found, bool):
        return expected is found
    return bool(expected == found)
