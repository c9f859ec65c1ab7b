"""The dashboard's screens: one per mode (Train, Playground, Benchmark, Learn, Runs) plus help and dialogs."""
