"""The ground floor: clock, settings, i18n, messages, the LINE client and codecs.

Nothing here imports a package above it.
"""
