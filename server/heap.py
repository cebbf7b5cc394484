"""The objects a started server keeps for its life, set aside from the cycle collector.

Starting builds some 200,000 objects that live as long as the process: modules, the LINE SDK's
models, the locales, the templates, the routes. Python's collector walks every one of them at
each full collection, and one such walk, triggered by the allocations of a 07:00 wave or rush,
took a quarter of the wave's CPU (bench/wave.py). Frozen once started, they are never walked
again; what handling creates is collected as before.
"""

from __future__ import annotations

import gc

from aiohttp import web


async def freeze_startup_heap(app: web.Application) -> None:
    """An on_startup hook, last: collect what starting left behind, then freeze the rest."""
    gc.collect()
    gc.freeze()
