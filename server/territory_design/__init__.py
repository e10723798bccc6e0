"""Territory design for managers: assignment by polygon, bulk reassignment, the balancer."""
