"""A local model of Mixpeek's task-list service, for running and testing the exporter with no
account. It reproduces the documented behaviour (body keys, caps, `include_total`,
`next_cursor`, filters, sort, search, the error body), a seeded task history, the churn of a
live account, injected faults, and, behind a server profile, the ways the live service may
differ from its documentation. It imports nothing from the exporter it tests.

`make demo` and the tests start it on a free port; `mixpeek-emulator` serves it by hand.
"""

from mixpeek_emulator.faults import FAULT_KINDS, Faults
from mixpeek_emulator.profiles import QUIRKS, ServerProfile
from mixpeek_emulator.server import EmulatorServer, running_emulator
from mixpeek_emulator.store import TaskStore

__all__ = ["FAULT_KINDS", "QUIRKS", "EmulatorServer", "Faults", "ServerProfile", "TaskStore",
           "running_emulator"]
