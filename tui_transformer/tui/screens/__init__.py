"""The dashboard's screens: one per mode (Train, Playground, Benchmark) plus dialogs."""
