"""Rewrite the key tables of config/README.md from the config sections' docstrings (tuna.config.docs)."""

from pathlib import Path

from tuna.config.docs import with_tables

README = Path(__file__).resolve().parent.parent / "config" / "README.md"

if __name__ == "__main__":
    README.write_text(with_tables(README.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"{README}: key tables rewritten")
