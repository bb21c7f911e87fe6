"""Service, support and care cases: the work items an inbound message opens."""
