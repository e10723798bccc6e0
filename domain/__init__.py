"""The fieldsync domain: tables, value types and validation schemas.

Plain SQLAlchemy and marshmallow, no Flask, so that `sync`, `routing` and the
tests can use it without an application.
"""
