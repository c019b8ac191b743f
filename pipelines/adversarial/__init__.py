"""The adversarial evaluation pipeline: fit a generator, sample, train a detector, gate on AUC."""
