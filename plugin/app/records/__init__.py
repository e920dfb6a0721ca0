"""The plugin's records: the durable state it keeps (SQLAlchemy; SQLite or PostgreSQL).

- :mod:`.store` — tables and the engine;
- :mod:`.jobs` — the durable job queue (restart-resume, dedup by key);
- :mod:`.registry` — filed bundles: search, fetch + verify, access log;
- :mod:`.cases` — handover cases and their 7/15-day deadlines;
- :mod:`.notify` — notifications to Nextcloud users.

May import the app's platform modules (:mod:`..config`, :mod:`..appapi`, :mod:`..dms`) and the
stages below; never the web face or the flows.
"""
