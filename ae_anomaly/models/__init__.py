"""The estimators: one template (:mod:`.base`) and each variant as a small subclass."""
