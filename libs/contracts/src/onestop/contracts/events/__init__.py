"""The event catalogue, one module per area. `onestop.contracts.catalogue` lists them all."""
