"""The values that flow through the pipeline, and nothing that does anything.

listen ──▶ understand ──▶ decide ──▶ act ──▶ record

- ``post``: accounts, posts, threads, visibility;
- ``catalog``: essays, quotes, prompts, rules (the admin data, loaded);
- ``decision``: the history the decision reads, the ``Reply``/``Skip`` it returns;
- ``ids``: server ids, compared one way everywhere.

Frozen dataclasses with small derived properties. Imports only the standard
library and its own modules.
"""
