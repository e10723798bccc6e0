"""`/healthz` and `/readyz`: probes for load balancers and orchestrators."""
