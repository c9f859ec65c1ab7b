"""Learn mode's content: twelve pages, one per concept, each with prose, a live panel and code.

``pages/NN_*.md`` hold the prose; :mod:`.registry` lists the pages with the source each one
shows; the other modules compute one live panel each from a :class:`.context.LiveContext`.
None of these modules imports textual: the panels are rich renderables built in a worker thread.
"""
