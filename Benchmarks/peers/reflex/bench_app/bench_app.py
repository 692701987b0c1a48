"""The Reflex twin of Rill's BenchServer: a counter, an increment, and a background count."""

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


def index() -> rx.Component:
    return rx.vstack(rx.heading(State.counter), rx.button("Increment", on_click=State.increment))


app = rx.App()
app.add_page(index)
