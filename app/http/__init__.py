"""The HTTP edge: the app, the request's way through it, and everything a client sees of HTTP."""
