"""Contact policies, the gate and the decision ledger."""
