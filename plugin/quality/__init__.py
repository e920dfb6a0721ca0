"""Quality of classification: measure it on a labelled folder (:mod:`.evaluate`) and teach a
unit's model from an archivist's corrections (:mod:`.teach`).

Both read documents through the pipeline's public API (:func:`..pipeline.read_documents`),
exactly as ``assemble`` reads them; they never drive the transfer engine themselves.
"""
