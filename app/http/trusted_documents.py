"""Trusted documents (GraphQL over HTTP's persisted documents): operations a client sends by ID, not by text.

A client built with graphql-codegen's client preset (`persistedDocuments: true`) ships a manifest, a
JSON object from each document's SHA-256 (hex) to its text; `TRUSTED_DOCUMENTS` names that file. The
examples in app/examples/ are always trusted. A request sends `documentId` ("sha256:<hex>" or the bare
hex) instead of `query`, by POST or GET, with `variables` and `operationName` as usual; an unknown ID
is PERSISTED_QUERY_NOT_FOUND.

With `TRUSTED_DOCUMENTS_ONLY=true` (production's natural setting) nothing else runs: a query sent as
text, or an APQ hash or registration, is refused before it is parsed with TRUSTED_DOCUMENT_REQUIRED
(403), unless its text is itself a trusted document's. Every trusted document is parsed, validated,
costed and checked against the compiler once, at start-up (app.execution.executor.Executor.pin); a
manifest holding a document this schema refuses stops the start, naming the document.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path

import orjson
from graphql import OperationDefinitionNode, parse

from app.config import Settings
from app.errors import BadRequest, PersistedQueryNotFound, TrustedDocumentRequired
from app.execution.executor import Executor
from app.request import Operation

SHA256_HEX = re.compile(r"[0-9a-f]{64}")
EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"


class TrustedDocumentsError(Exception):
    """The manifest cannot be used: unreadable, not the expected shape, or a document the schema refuses."""


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class TrustedDocuments:
    """The trusted documents by SHA-256 (hex): the examples', and a manifest's."""

    def __init__(self, manifest: Path | None, only: bool) -> None:
        self.only = only
        self.documents: dict[str, str] = {}
        self.sources: dict[str, str] = {}  # hash -> where it came from, for messages
        for path in sorted(EXAMPLES_DIR.glob("*.graphql")):
            text = path.read_text(encoding="utf-8")
            self.documents[_sha256(text)] = text
            self.sources[_sha256(text)] = f"app/examples/{path.name}"
        if manifest is not None:
            self._load(manifest)

    def _load(self, manifest: Path) -> None:
        try:
            entries = orjson.loads(manifest.read_bytes())
        except OSError as error:
            raise TrustedDocumentsError(f"TRUSTED_DOCUMENTS={manifest}: cannot read it ({error.strerror})") from None
        except orjson.JSONDecodeError as error:
            raise TrustedDocumentsError(f"TRUSTED_DOCUMENTS={manifest}: not JSON ({error})") from None
        if not isinstance(entries, dict):
            raise TrustedDocumentsError(
                f"TRUSTED_DOCUMENTS={manifest}: expected a JSON object from SHA-256 (hex) to document text, "
                "as graphql-codegen's client preset writes it with persistedDocuments: true"
            )
        for key, text in entries.items():
            if not isinstance(text, str) or not SHA256_HEX.fullmatch(key):
                raise TrustedDocumentsError(
                    f"TRUSTED_DOCUMENTS={manifest}: entry {key[:70]!r} is not a SHA-256 (lowercase hex) with its "
                    "document's text"
                )
            if _sha256(text) != key:
                raise TrustedDocumentsError(
                    f"TRUSTED_DOCUMENTS={manifest}: entry {key} is not the SHA-256 of its document's text "
                    "(set the client preset's hashAlgorithm to sha256)"
                )
            self.documents[key] = text
            self.sources[key] = f"{manifest.name}: {key}"

    def plan(self, executor: Executor) -> None:
        """Parse, validate and plan every trusted document once (start-up); one the schema refuses stops it."""
        for key, text in self.documents.items():
            try:
                executor.pin(text, None)
            except Exception as error:  # noqa: BLE001 - any refusal of a trusted document stops the start
                raise TrustedDocumentsError(f"trusted document {self.sources[key]} cannot run: {error}") from None

    def operation_names(self) -> set[str]:
        """The names of the trusted documents' operations (the metrics' labels)."""
        names = set()
        for text in self.documents.values():
            for definition in parse(text).definitions:
                if isinstance(definition, OperationDefinitionNode) and definition.name is not None:
                    names.add(definition.name.value)
        return names

    def hash_of(self, document_id: str) -> str | None:
        """The hex SHA-256 a `documentId` names ("sha256:<hex>" or "<hex>"), or None if it names none."""
        value = document_id.removeprefix("sha256:")
        return value if SHA256_HEX.fullmatch(value) else None

    def resolve(self, operation: Operation) -> Operation:
        """The operation with its trusted document's text; refused when only trusted documents may run."""
        if operation.document_id is not None:
            if operation.query is not None:
                raise BadRequest("Send `documentId` or `query`, not both.", status=400)
            key = self.hash_of(operation.document_id)
            text = self.documents.get(key) if key is not None else None
            if text is None:
                raise PersistedQueryNotFound(
                    f"No trusted document has the ID {operation.document_id[:80]!r}: send the IDs of the manifest "
                    "this server was started with (TRUSTED_DOCUMENTS).",
                    status=400,
                )
            return dataclasses.replace(operation, query=text)
        persisted = (operation.extensions or {}).get("persistedQuery")
        sha = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if operation.query is None and isinstance(sha, str) and sha in self.documents:
            return dataclasses.replace(operation, query=self.documents[sha])  # an APQ hash of a trusted document
        if self.only and not self._trusted_text(operation):
            raise TrustedDocumentRequired(
                "This server runs only trusted documents (TRUSTED_DOCUMENTS_ONLY): send `documentId` with the ID "
                "your client's manifest gives the operation, not its text.",
                status=403,
            )
        return operation

    def _trusted_text(self, operation: Operation) -> bool:
        """A query sent as text that is itself a trusted document."""
        return operation.query is not None and _sha256(operation.query) in self.documents


def check_trusted_documents(settings: Settings) -> None:
    """Load and plan the trusted documents as a server would at start-up; TrustedDocumentsError names what is wrong."""
    TrustedDocuments(settings.trusted_documents, settings.trusted_documents_only).plan(Executor(settings))
