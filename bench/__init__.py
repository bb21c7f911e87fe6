"""Benchmarks: `khoshnud bench NAME [--scale N] [--db sqlite|postgres]` or `python -m bench ...`.

Each prints readable figures and, as its last line, one JSON object with them and the baseline
measured in the same run.
"""
