"""The record resources under `/api/v1` (users … tasks), one blueprint each from one table."""
