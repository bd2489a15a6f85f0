"""How `keygate serve` on granian takes its stop signals."""

from __future__ import annotations

from entrypoints.cli.server import granian_server


def test_a_stop_signal_arriving_while_another_is_handled_is_not_acted_on_again() -> None:
    cls = granian_server()
    server = cls.__new__(cls)  # only the handler is exercised, nothing is started
    server.interrupt_signal = False
    sets: list[str] = []

    class NestedSignal:
        """An Event whose set() is interrupted by a second signal, as a real one can
        be: granian's own handler then calls set() again and, on threading.Event,
        waits forever for the lock the interrupted set() holds."""

        def set(self) -> None:
            sets.append("set")
            if len(sets) == 1:
                server.signal_handler_interrupt()

    server.main_loop_interrupt = NestedSignal()
    server.signal_handler_interrupt()
    assert server.interrupt_signal
    assert sets == ["set"]
