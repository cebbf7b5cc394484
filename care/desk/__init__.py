"""The last rung: the 社協 or city desk's cases, the partners it asks to visit, how a visit ends,
and the report of what the alerts came to."""
