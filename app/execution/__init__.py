"""Execution: a parsed request becomes an answer, from the result cache, the compiler or Strawberry, within its limits."""
