"""The simulated gate with its relay, inputs and lamps on a gate I/O board (firmware over a pty)."""

from __future__ import annotations

from pathlib import Path

from edge.app.hardware import Hardware
from edge.drivers.fake_gpio import FakeInput
from edge.drivers.gateio import GateIoBoard
from edge.sim.gateio_board import SimBoardIO, SimGateIoBoard
from edge.sim.rig import SimGate, SimTurnstile


class BoardContact(FakeInput):
    """A contact wired to one of the board's inputs: pressing it closes the contact on the
    board, which debounces it and reports it to the host like real wiring."""

    def __init__(self, board_io: SimBoardIO, name: str) -> None:
        super().__init__(name)
        self._board_io = board_io

    def set_active(self, *, active: bool) -> None:
        """Open or close the contact on the board as well."""
        super().set_active(active=active)
        setattr(self._board_io, self.name, active)


def fit_gateio_board(sim: SimGate, link: Path) -> SimGateIoBoard:
    """Replace the simulated gate's GPIO relay and inputs with a gate I/O board served on a pty
    at `link`, opened through the real host driver. Stop the returned board after the service."""
    board_sim = SimGateIoBoard(link).start()
    try:
        board = GateIoBoard.open(str(link))
    except Exception:
        board_sim.stop()
        raise
    sim.turnstile.close()
    passage = BoardContact(board_sim.io, "passage")
    sim.manual_button = BoardContact(board_sim.io, "button")
    sim.passage = passage
    sim.turnstile = SimTurnstile(board.relay, sim.chip, passage, sim.clock)
    sim.hardware = Hardware(
        relay=sim.turnstile,
        thermometer=sim.hardware.thermometer,
        io=board.gate_io(),
        frames=sim.camera,
    )
    return board_sim
