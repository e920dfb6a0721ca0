"""Language: Chinese text normalisation (NFC, Traditional → Simplified) and the UI script.

Leaf helpers every stage may use; they import nothing else of the application.
"""
