"""Benchmarks behind `servicecircle bench`; each module has run(quick) -> dict."""
