"""Every module that registers a teller (care.rounds.carry), in one list: the services load it
when they are built, so no process carries a decision with a teller missing, whichever surfaces
it happened to import (a LookupError mid-alert would stop a rung in silence)."""

from __future__ import annotations

from care.desk import cases
from care.rounds import alerts, answers, checkins, devices, taking

MODULES = (alerts, answers, cases, checkins, devices, taking)
