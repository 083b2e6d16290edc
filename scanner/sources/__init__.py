"""Source adapters: each turns one unit of input into normalized graphs, and knows no rule.

units.py says what a unit is and which adapter reads it: cloudformation/, terraform/, pem.py,
snapshot.py (a live run read back) and live/ (AWS itself). files.py and loader.py read input
safely for all of them. Nothing is imported here, so that a module needing one of them (the
policy file's reader needs loader.py) does not load every adapter.
"""
