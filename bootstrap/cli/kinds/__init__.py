"""One interface for every kind of trust (base.py), its entries, and the registry that picks one."""
