"""The Textual dashboard: one view over the core's event stream.

Nothing in here trains, tokenizes or generates. The screens build a config, hand it to the core in
a thread worker, and draw the events that come back as messages. The only package that imports
textual is this one (``tests/test_layering.py`` checks that the core stays free of it).

Layout of the package:

* ``app.py``            the shell: modes, header, command palette, quitting, worker errors;
* ``current_run.py``    the one run every screen shows, owned by the app;
* ``host.py``           the one typed interface through which a screen asks the app for things;
* ``run_pin.py``        the Playground's and Learn's choice: follow the current run, or a pinned one;
* ``messages.py``       what worker threads and the app post to the screens;
* ``training_session.py``  the bridge from the UI to ``run_training`` (stop / pause events);
* ``run_history.py``    a run's events folded into series and panels (no textual, easy to test);
* ``metrics_tail.py``   follow a growing ``metrics.jsonl`` (attach to a run started elsewhere);
* ``sweep_progress.py`` where a sweep started from the dashboard stands;
* ``worker_errors.py``  a failed worker told as one line and a notification;
* ``essential_keys.py``, ``plural.py``  the footer keys every screen keeps; counts in words;
* ``throughput.py``, ``runs_bench.py``  the dashboard's own benchmarks (``bench tui``, ``bench runs``);
* ``settings.py``       remembered choices (the theme);
* ``screens/``          Train, Playground, Benchmark, Learn, Runs, Lessons, help and dialogs;
* ``learn/``            Learn mode's twelve pages: prose, a live panel and the code of each concept;
* ``widgets/``          charts, heatmaps, panels, the form, the slider, the run pickers.
"""
