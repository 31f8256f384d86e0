"""Curation: drafting a new document's facts file, and measuring drafts. Never imported by serving."""
