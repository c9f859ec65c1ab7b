"""The Textual dashboard: one view over the core's event stream.

Nothing in here trains, tokenizes or generates. The screens build a config, hand it to the core in
a thread worker, and draw the events that come back as messages. The only package that imports
textual is this one (``tests/test_layering.py`` checks that the core stays free of it).

Layout of the package:

* ``app.py``            the shell: modes, header, command palette, quitting, worker errors;
* ``messages.py``       what worker threads post to the UI thread;
* ``training_session.py``  the bridge from the UI to ``run_training`` (stop / pause events);
* ``run_history.py``    a run's events folded into series and panels (no textual, easy to test);
* ``metrics_tail.py``   follow a growing ``metrics.jsonl`` (attach to a run started elsewhere);
* ``throughput.py``     training tokens/s under the dashboard vs headless (``bench tui``);
* ``settings.py``       remembered choices (the theme);
* ``screens/``          Train, Playground, Benchmark, help and dialogs;
* ``widgets/``          charts, stats, shard cache, form, slider.
"""
