"""Territory management for managers: assignment by polygon, bulk reassignment, balancer."""
