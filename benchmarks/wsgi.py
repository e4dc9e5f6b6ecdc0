"""gunicorn entry point of the benchmark: the real app, plus the floor.

    DATABASE_URL=… SECRET_KEY=… DASHBOARD_ENV=test gunicorn -w 2 benchmarks.wsgi:server

The app is built by `dashboard.app.create_app()` from the environment exactly as
`dashboard.wsgi` does. The only addition is the FLOOR: a Dash callback that does nothing
(`bench-in.n_clicks` → `bench-out.children`), registered here before the first request, so
that it is served by the same workers, through the same Flask/Dash stack, as the callbacks
measured against it. It exists only in this benchmark module, never in the app.
"""

from dash import Input, Output

from dashboard.app import create_app

app = create_app()


def _do_nothing(n_clicks):  # the floor: Dash's own cost of one callback round trip
    return n_clicks


app.callback(Output("bench-out", "children"), Input("bench-in", "n_clicks"))(_do_nothing)
server = app.server
