"""Team KPIs and per-rep monthly quotas."""
