"""Process support shared by the stages: progress reporting, memory hand-back, Chinese
wording for OS errors, where the editable data and caches live, and the external tools
found on this machine.

Leaf helpers: they import nothing of the application but :mod:`..lang`.
"""
