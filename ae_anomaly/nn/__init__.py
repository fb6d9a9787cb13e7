"""Pure PyTorch: networks, losses and the one training loop. Nothing here imports sklearn."""
