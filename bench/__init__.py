"""onestop's benchmarks: each figure measured side by side with its raw reference, in the same run."""
