"""The objects a started server keeps for its life, set aside from the cycle collector.

Starting builds some 200,000 objects that live as long as the process: modules, the LINE SDK's
models, the locales, the templates, the routes. Python's collector walks every one of them at
each full collection, and one such walk, triggered by the allocations of a 07:00 wave or rush,
took a quarter of the wave's CPU (bench/wave.py) and held the event loop for as long: the
rush's p99 before an answer was that quarter of a second (bench/taps.py). Frozen once started,
they are never walked again; what handling creates is collected as before. The price: a cycle
among them that later falls out of use is never collected (freed by reference count, as almost
everything is, it goes as before).
"""

from __future__ import annotations

import gc

from aiohttp import web


async def freeze_startup_heap(app: web.Application) -> None:
    """An on_startup hook, last: collect what starting left behind, then freeze the rest."""
    gc.collect()
    gc.freeze()
