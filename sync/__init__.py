"""The sync engine: the one write path, scopes and the rules every writer obeys.

No Flask here: the server, the CLI, the demo seeder and the tests all call it
directly.
"""
