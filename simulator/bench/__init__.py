"""Benchmarking a consumer: ``genesys-sim bench`` steps the offered load up until the
consumer falls behind (ladder.py), measures the harness's own ceiling with the null
consumer in the same run (null.py), and compares both against the raw emulator
loop (rawloop.py)."""
