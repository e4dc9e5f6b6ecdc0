"""Benchmarks of the enrolment service at national scale (issue #8).

`python -m benchmarks generate --enrolments N --database URL` fills a database with N
enrolments (bulk inserts: COPY on PostgreSQL, executemany on SQLite);
`python -m benchmarks [--enrolments N] [--database URL] --json` measures the back-office and
the secretary's and professional's steps against a do-nothing Dash callback served the same
way (gunicorn, 2 sync workers, 20 concurrent clients). See docs/performance.md.
"""
