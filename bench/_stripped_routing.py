"""The routing library without its bookkeeping (bench/routing_floor.py measures it).

Pure text surgery on router/routing.lua, so that the floor is measured on the library as
it is today; a pattern that no longer matches stops the bench instead of measuring
something else.
"""

from __future__ import annotations

# What the stripped library drops (bookkeeping, not routing). Functions that return at once:
# (what, the function's signature, what it returns).
EARLY_RETURNS = (
    ("counters", "stat(queue, at, field, by)", ""),
    ("records stream and live sets at the end", "record(cid, c)", ""),
    ("explanation text", "explain(c, r, strategy, agent, candidates, how)", "''"),
    ("explanation lines", "with_line(previous, line)", "''"),
)
# Lines replaced, matched without their indentation: (what, the line, its replacement).
REPLACED_LINES = (
    ("live sets at creation", "redis.call('SADD', P .. 'live', cid)", ""),
    (
        "live sets at creation",
        "if c.node and c.node ~= '' then redis.call('SADD', P .. 'live:' .. c.node, cid) end",
        "",
    ),
    ("customer history", "if (c.customer_id or '') ~= '' then", "if false then"),
    ("wrap-up pending", "redis.call('SADD', pending, cid)", ""),
    ("wrap-up pending", "redis.call('EXPIRE', pending, CODE_OWED_S)", ""),
    ("departure times", "redis.call('HSET', waits, 'last_wait_ms', wait, 'last_at', now)", ""),
    (
        "departure gap",
        "local moved = math.max(num(redis.call('HGET', waits, 'last_at'), 0),"
        " num(c.queued_at, now))",
        "local moved = now",
    ),
)


def stripped(source: str) -> str:
    """The library without its bookkeeping; fails loudly when the library has moved on."""
    for what, signature, value in EARLY_RETURNS:
        header = f"local function {signature}\n"
        if header not in source:
            raise SystemExit(f"routing_floor: the library no longer has the {what} this strips")
        source = source.replace(header, f"{header}  do return {value} end\n", 1)
    lines = source.split("\n")
    for what, line, replacement in REPLACED_LINES:
        at = next((i for i, text in enumerate(lines) if text.strip() == line), None)
        if at is None:
            raise SystemExit(f"routing_floor: the library no longer has the {what} this strips")
        indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
        lines[at] = indent + replacement if replacement else ""
    return "\n".join(lines)
