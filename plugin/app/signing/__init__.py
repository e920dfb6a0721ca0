"""Signing of the 交接书: render the certificate with one signature field per role
(:mod:`.certificate`), check a signed copy (:mod:`.check`, pyHanko), and a throwaway CA for
demonstrations and tests (:mod:`.demosign`).

May import :mod:`..config` and the stages below; never records, the web face or the flows.
"""
