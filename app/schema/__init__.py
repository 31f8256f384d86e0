"""The GraphQL schema's declarations: types, fields, filters and orderings, each declared once (fields.py says how).

The executable schema (these declarations with their limits and error reporting) is
`app.execution.executable.schema`; the resolvers Strawberry runs read the request's runtime (runtime.py).
"""
