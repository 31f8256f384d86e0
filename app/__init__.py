"""A GraphQL API over a knowledge base of Mongolia's multilateral cooperation."""
