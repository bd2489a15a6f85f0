"""The third entrypoint: server-rendered dashboard pages at /dashboard, for people.

Same container, same use cases as the API and the CLI; this package only turns forms
and sessions into use-case calls and their results into HTML. `router.py` assembles it;
one module per concern: `signin.py`, `keys.py`, `usage.py` (pages), `visit.py` (who is
signed in), `session.py` (the sealed cookie), `responses.py` and `errors.py`.
"""
