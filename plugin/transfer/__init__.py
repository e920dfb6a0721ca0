"""Transfer: bring documents from a connector to the readers, and skip what is unchanged.

- :mod:`.fetch` — parallel, resumable, checksummed downloads into a cache keyed by id + etag;
- :mod:`.workers` — the read pool: extraction *and* classification in capped worker processes;
- :mod:`.extractcache` — extraction results by content hash, so unchanged documents are not read;
- :mod:`.uptodate` — the output guard: a re-run with unchanged inputs keeps the bundle.

Imports connectors, extract, classify and the leaf helpers; never bundle, verify or a face.
"""
