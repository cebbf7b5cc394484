"""The chat surface: LINE's webhook, the drain that hands each batch of events to the
per-feature routers (`bot/features/`) in one transaction, and the replies."""
