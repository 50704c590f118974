"""PostGIS storage. Functions take a SQLAlchemy ``Connection`` and never commit."""
