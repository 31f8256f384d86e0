"""Data: engines, models, migrations, the request's session, keyset paging, IDs, listings, search, data versions.

Every SQL statement is built here or by the compiler (app.execution.compiler).
"""
