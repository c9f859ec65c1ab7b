"""Interoperability: our models and tokenizers in other libraries' formats, and back.

* :mod:`.tokenizer_json`      a tiktoken BPE <-> Hugging Face ``tokenizer.json`` (byte-level BPE)
* :mod:`.hf_gpt2`             our weights <-> ``GPT2LMHeadModel`` (learned or sinusoidal positions)
* :mod:`.hf_neox`             our weights -> ``GPTNeoXForCausalLM`` (RoPE)
* :mod:`.hf_export`           ``export --format hf``: pick the architecture, refuse what has no exact match
* :mod:`.exports`             ``export``: a run in either format (``safetensors``, our own weights and config,
                              is the run format of :mod:`tui_transformer.train.safetensors_run`)
* :mod:`.gpt2_import`         ``import DIR``: a local GPT-2 directory becomes one of our runs
* :mod:`.output_dir`          write a folder completely or not at all (temp folder, then rename)
* :mod:`.hf_extra`            the one check that the optional ``hf`` extra is installed

Writing these formats needs only ``safetensors`` (a main dependency) and JSON; ``transformers``
is needed only to check an export by loading it back (``--verify``), in the optional ``hf`` extra.
The package imports ``train`` (runs, configs, checkpoints), and ``train`` never imports it.
"""
