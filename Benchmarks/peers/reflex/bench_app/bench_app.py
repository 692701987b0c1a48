"""The Reflex twin of Rill's BenchServer: a counter, an increment, a background count, and a shared room."""

import reflex as rx


class State(rx.State):
    counter: int = 0

    @rx.event
    def increment(self):
        self.counter += 1

    @rx.event(background=True)
    async def bg_count(self, n: int = 1000):
        # One lock block per increment, as BenchServer's bgCount does, so both send n deltas.
        for _ in range(n):
            async with self:
                self.counter += 1


class Room(rx.SharedState):
    """The room of the fan-out scenario: one writer changes it, every linked tab gets each change."""

    total: int = 0

    @rx.event
    async def join(self):
        await self._link_to("bench")

    @rx.event
    def increment(self):
        self.total += 1


def index() -> rx.Component:
    return rx.vstack(rx.heading(State.counter), rx.button("Increment", on_click=State.increment))


app = rx.App()
app.add_page(index)
